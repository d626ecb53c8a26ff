"""The ONNX protobuf as the pre-flight scanner reads it: which fields of onnx.proto
it keeps (kind by kind) and the protobuf wire format's pieces (varints, packed
integers). Tables and small pure functions; the reading itself is ``scanner.Scanner``.
"""

from __future__ import annotations

from typing import Any

# Message kinds.
(
    MODEL,
    GRAPH,
    SUBGRAPH,
    NODE,
    ATTRIBUTE,
    TENSOR,
    SPARSE,
    VALUE_INFO,
    TYPE,
    TENSOR_TYPE,
    SHAPE,
    DIM,
    OPSET,
    ENTRY,
) = range(14)
# What a field holds: a message to descend into, a string, an integer, integers
# (packed or not). Fields not listed are skipped.
SUB, STR, INT, INTS = range(4)
# Roles of a tensor or value info, from where it sits.
ROLE_NONE, ROLE_INIT, ROLE_INIT_SPARSE, ROLE_INDICES, ROLE_INPUT, ROLE_OUTPUT = range(6)

# (what, child kind or key, role)
Spec = tuple[int, Any, int]
# onnx.proto field numbers, kind by kind: {field: (what, child kind or key, role)}.
NODE_FIELDS = {4: (STR, "op_type", 0), 7: (STR, "domain", 0), 5: (SUB, ATTRIBUTE, 0)}
FIELDS: list[dict[int, Spec]] = [
    # ModelProto: ir_version, producer_name, graph, opset_import.
    {1: (INT, "ir_version", 0), 2: (STR, "producer", 0), 7: (SUB, GRAPH, 0), 8: (SUB, OPSET, 0)},
    # GraphProto (the model's): node, initializer, sparse_initializer, input, output.
    {
        1: (SUB, NODE, 0),
        5: (SUB, TENSOR, ROLE_INIT),
        15: (SUB, SPARSE, ROLE_INIT_SPARSE),
        11: (SUB, VALUE_INFO, ROLE_INPUT),
        12: (SUB, VALUE_INFO, ROLE_OUTPUT),
    },
    # A subgraph (If/Loop/Scan body): its nodes and stored tensors only.
    {1: (SUB, NODE, 0), 5: (SUB, TENSOR, 0), 15: (SUB, SPARSE, 0)},
    NODE_FIELDS,
    # AttributeProto: t, g, tensors, graphs, sparse_tensor, sparse_tensors.
    {
        5: (SUB, TENSOR, 0),
        6: (SUB, SUBGRAPH, 0),
        10: (SUB, TENSOR, 0),
        11: (SUB, SUBGRAPH, 0),
        22: (SUB, SPARSE, 0),
        23: (SUB, SPARSE, 0),
    },
    # TensorProto: dims, name, external_data, data_location (payloads are skipped).
    {1: (INTS, "dims", 0), 8: (STR, "name", 0), 13: (SUB, ENTRY, 0), 14: (INT, "location", 0)},
    # SparseTensorProto: values, indices.
    {1: (SUB, TENSOR, 0), 2: (SUB, TENSOR, ROLE_INDICES)},
    # ValueInfoProto: name, type.
    {1: (STR, "name", 0), 2: (SUB, TYPE, 0)},
    # TypeProto: tensor_type, sparse_tensor_type (the same layout).
    {1: (SUB, TENSOR_TYPE, 0), 8: (SUB, TENSOR_TYPE, 0)},
    # TypeProto.Tensor: elem_type, shape.
    {1: (INT, "elem_type", 0), 2: (SUB, SHAPE, 0)},
    # TensorShapeProto: dim.
    {1: (SUB, DIM, 0)},
    # Dimension: dim_value, dim_param (a oneof: the last one wins).
    {1: (INT, "value", 0), 2: (STR, "param", 0)},
    # OperatorSetIdProto: domain, version.
    {1: (STR, "domain", 0), 2: (INT, "version", 0)},
    # StringStringEntryProto (a tensor's external_data): key, value.
    {1: (STR, "key", 0), 2: (STR, "value", 0)},
]
# TensorProto fields holding the data: float, int32, string, int64, raw, double, uint64.
PAYLOAD_FIELDS = frozenset({4, 5, 6, 7, 9, 10, 11})
DATA_LOCATION_EXTERNAL = 1


class Malformed(Exception):
    pass


class Frame:
    """An open message: its kind, where it ends, its role and what was read of it."""

    __slots__ = ("end", "kind", "main", "role", "values")

    def __init__(self, kind: int, end: int | None, role: int, main: bool) -> None:
        self.kind = kind
        self.end = end
        self.role = role
        self.main = main
        self.values: dict[str, Any] = {}


def varint(data: bytes | memoryview, i: int, n: int) -> tuple[int | None, int]:
    """(value, next index), or (None, i) when the varint is not complete yet."""
    result = 0
    shift = 0
    while i < n:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7
        if shift >= 70:
            raise Malformed("a varint is longer than 10 bytes")
    return None, i


def signed(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_ints(data: bytes) -> list[int]:
    values, i, n = [], 0, len(data)
    while i < n:
        value, i = varint(data, i, n)
        if value is None:
            raise Malformed("a packed integer list is cut short")
        values.append(signed(value))
    return values
