"""What the scanner read from an ONNX model: its metadata, never its weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class ValueInfo(NamedTuple):
    """A graph input or output: ``shape`` is None when unknown, a dim None when dynamic."""

    name: str
    elem_type: int | None
    shape: tuple[int | None, ...] | None

    def to_dict(self) -> dict[str, Any]:
        shape = list(self.shape) if self.shape is not None else None
        return {"name": self.name, "elem_type": self.elem_type, "shape": shape}


@dataclass
class OnnxSummary:
    """The scan's result. Memory is that of the metadata: operator counts, input and
    output descriptions, initializer names; the tensors' payloads are only measured.

    ``op_counts`` counts the main graph's nodes by (op_type, domain);
    ``subgraph_op_counts`` those inside If/Loop/Scan bodies. ``inputs`` are the graph
    inputs that are not initializers (older exporters list every weight as an input too).
    """

    size_bytes: int = 0
    is_onnx: bool = False
    not_onnx_reason: str = ""
    lfs_pointer: bool = False
    ir_version: int | None = None
    producer_name: str = ""
    opset_imports: dict[str, int] = field(default_factory=dict)
    op_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    subgraph_op_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    inputs: list[ValueInfo] = field(default_factory=list)
    outputs: list[ValueInfo] = field(default_factory=list)
    initializer_count: int = 0
    # Elements and payload bytes of every stored tensor (initializers, Constant values).
    weight_elements: int = 0
    weight_bytes: int = 0
    has_external_data: bool = False
    external_data_locations: list[str] = field(default_factory=list)

    @property
    def nodes(self) -> list[tuple[str, str]]:
        """Each distinct (op_type, domain) of the main graph, sorted."""
        return sorted(self.op_counts)

    @property
    def node_count(self) -> int:
        return sum(self.op_counts.values())

    def all_op_counts(self) -> dict[tuple[str, str], int]:
        merged = dict(self.op_counts)
        for key, count in self.subgraph_op_counts.items():
            merged[key] = merged.get(key, 0) + count
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {
            "size_bytes": self.size_bytes,
            "is_onnx": self.is_onnx,
            "not_onnx_reason": self.not_onnx_reason,
            "lfs_pointer": self.lfs_pointer,
            "ir_version": self.ir_version,
            "producer_name": self.producer_name,
            "opset_imports": dict(self.opset_imports),
            "node_count": self.node_count,
            "operators": [
                {"op_type": op, "domain": domain, "count": count}
                for (op, domain), count in sorted(self.all_op_counts().items())
            ],
            "inputs": [value.to_dict() for value in self.inputs],
            "outputs": [value.to_dict() for value in self.outputs],
            "initializer_count": self.initializer_count,
            "weight_elements": self.weight_elements,
            "weight_bytes": self.weight_bytes,
            "has_external_data": self.has_external_data,
            "external_data_locations": list(self.external_data_locations),
        }
