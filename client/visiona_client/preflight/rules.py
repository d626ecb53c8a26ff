"""The pre-flight's verdict on a scanned model for one chip: blockers and warnings.

Blockers (the converter would fail or the toolchain cannot take the model): not an
ONNX model, a Git LFS pointer, operators from a custom domain, an opset outside
8-18, external data files, more than one input. Warnings: operators that run on the
chip's CPU instead of its NPU (with the table's numbered condition), operators the
table does not list, dynamic or batch > 1 input shapes, a model near the NEF cap.

Messages are English; each finding's ``code`` and ``details`` let a caller (the
server's pages) word it in another language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visiona_client.preflight import limits, operator_table
from visiona_client.preflight.summary import OnnxSummary


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


@dataclass
class Report:
    chip: str | None  # "KL720", or None when no chip was given
    summary: OnnxSummary
    blockers: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    # Per operator on the chip: npu, npu_if (with conditions), cpu, unlisted, custom.
    operators: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict[str, Any]:
        summary = self.summary.to_dict()
        summary["operators"] = [dict(row) for row in self.operators] or summary["operators"]
        return {
            "chip": self.chip,
            "ok": self.ok,
            "blockers": [finding.to_dict() for finding in self.blockers],
            "warnings": [finding.to_dict() for finding in self.warnings],
            "summary": summary,
        }


def chip_code(chip: str) -> str:
    """ "KL720", "kl720" or "720" -> "720"; ValueError for a chip the table lacks."""
    code = str(chip).strip().upper()
    code = code[2:] if code.startswith("KL") else code
    if code not in operator_table.CHIPS:
        known = ", ".join(f"KL{name}" for name in operator_table.CHIPS)
        raise ValueError(f"unknown chip {chip!r} (one of {known})")
    return code


def check(summary: OnnxSummary, chip: str | None = None) -> Report:
    """Blockers and warnings for ``chip`` ("KL720" or "720"); without a chip, the
    blockers and the chip-independent warnings only."""
    code = chip_code(chip) if chip is not None else None
    report = Report(chip=f"KL{code}" if code else None, summary=summary)
    report.blockers = blockers(summary)
    if not summary.is_onnx:
        return report
    if code is not None:
        report.operators = operator_rows(summary, code)
        report.warnings += _operator_warnings(report.operators, code)
    report.warnings += _shape_warnings(summary)
    if code is not None:
        report.warnings += _size_warnings(summary, code)
    return report


def blockers(summary: OnnxSummary) -> list[Finding]:
    """What stops a conversion on any chip: the server's upload refuses these."""
    if summary.lfs_pointer:
        return [
            Finding(
                "lfs_pointer",
                "This is a Git LFS pointer, not the model: run `git lfs pull` and use "
                "the real file.",
            )
        ]
    if not summary.is_onnx:
        return [
            Finding(
                "not_onnx",
                f"This is not an ONNX model: {summary.not_onnx_reason}.",
                {"reason": summary.not_onnx_reason},
            )
        ]
    found = []
    custom = _custom_operators(summary)
    if custom:
        named = ", ".join(f"{row['domain']}::{row['op_type']}" for row in custom)
        found.append(
            Finding(
                "custom_domain",
                f"The model uses operators from a custom domain, which the toolchain "
                f"cannot convert: {named}.",
                {"operators": custom},
            )
        )
    found += _opset_blockers(summary)
    if summary.has_external_data:
        locations = summary.external_data_locations
        where = f" ({', '.join(locations)})" if locations else ""
        found.append(
            Finding(
                "external_data",
                f"The model keeps its weights in external data files{where}; upload a "
                "single-file model (save it without external data).",
                {"locations": list(locations)},
            )
        )
    if len(summary.inputs) > 1:
        names = [value.name for value in summary.inputs]
        found.append(
            Finding(
                "multiple_inputs",
                f"The model has {len(names)} inputs ({', '.join(names)}); the toolchain "
                "converts models with a single input.",
                {"inputs": names, "count": len(names)},
            )
        )
    return found


def _custom_operators(summary: OnnxSummary) -> list[dict[str, Any]]:
    return [
        {"op_type": op, "domain": domain, "count": count}
        for (op, domain), count in sorted(summary.all_op_counts().items())
        if domain not in limits.DEFAULT_DOMAINS
    ]


def _opset_blockers(summary: OnnxSummary) -> list[Finding]:
    versions = [
        version
        for domain, version in summary.opset_imports.items()
        if domain in limits.DEFAULT_DOMAINS
    ]
    supported = [limits.MIN_OPSET, limits.MAX_OPSET]
    if not versions:
        return [
            Finding(
                "opset_unsupported",
                "The model declares no ONNX opset; the toolchain needs opset "
                f"{limits.MIN_OPSET} to {limits.MAX_OPSET}.",
                {"opset": None, "supported": supported},
            )
        ]
    version = max(versions)
    if limits.MIN_OPSET <= version <= limits.MAX_OPSET:
        return []
    return [
        Finding(
            "opset_unsupported",
            f"The model uses ONNX opset {version}; the toolchain converts opsets "
            f"{limits.MIN_OPSET} to {limits.MAX_OPSET}. Export it again with an opset in "
            "that range.",
            {"opset": version, "supported": supported},
        )
    ]


def operator_rows(summary: OnnxSummary, code: str) -> list[dict[str, Any]]:
    """Each operator of the model with its support on the chip, from Kneron's table."""
    column = operator_table.CHIPS.index(code)
    rows = []
    for (op, domain), count in sorted(summary.all_op_counts().items()):
        row: dict[str, Any] = {"op_type": op, "domain": domain, "count": count}
        if domain not in limits.DEFAULT_DOMAINS:
            row["support"] = "custom"
        elif op not in operator_table.SUPPORT:
            row["support"] = "unlisted"
        else:
            support, note = operator_table.SUPPORT[op][column]
            if support == "N":
                row["support"] = "cpu"
            else:
                row["support"] = "npu_if" if note is not None else "npu"
            if note is not None:
                row["note"] = note
                row["note_text"] = operator_table.NOTES.get(note, "")
        rows.append(row)
    return rows


def _operator_warnings(rows: list[dict[str, Any]], code: str) -> list[Finding]:
    found = []
    for row in rows:
        op, count = row["op_type"], row["count"]
        nodes = "node" if count == 1 else "nodes"
        if row["support"] == "cpu":
            text = f"{op} ({count} {nodes}) runs on the KL{code}'s CPU, not its NPU."
            if row.get("note_text") and row["note_text"] != "-":
                text += f" Kneron's note {row['note']}: {row['note_text']}"
            found.append(Finding("cpu_operator", text, _row_details(row)))
        elif row["support"] == "unlisted":
            text = (
                f"{op} ({count} {nodes}) is not in Kneron's operator table for the "
                f"KL{code}: it may run on the CPU or fail to convert."
            )
            found.append(Finding("unlisted_operator", text, _row_details(row)))
    return found


def _row_details(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("op_type", "domain", "count", "note", "note_text")
    return {key: row[key] for key in keys if key in row}


def _shape_warnings(summary: OnnxSummary) -> list[Finding]:
    found = []
    for value in summary.inputs:
        shape = list(value.shape) if value.shape is not None else None
        if shape is None or any(dim is None or dim < 1 for dim in shape):
            found.append(
                Finding(
                    "dynamic_shape",
                    f"Input {value.name} has a dynamic or unknown shape "
                    f"({_shape_text(shape)}); the toolchain needs a fixed input shape.",
                    {"input": value.name, "shape": shape},
                )
            )
        elif shape and (shape[0] or 0) > 1:
            found.append(
                Finding(
                    "batch_size",
                    f"Input {value.name} has batch size {shape[0]}; the chip runs one "
                    "image at a time (batch 1).",
                    {"input": value.name, "shape": shape, "batch": shape[0]},
                )
            )
    return found


def _shape_text(shape: list[int | None] | None) -> str:
    if shape is None:
        return "shape unknown"
    return "x".join("?" if dim is None or dim < 1 else str(dim) for dim in shape) or "scalar"


def _size_warnings(summary: OnnxSummary, code: str) -> list[Finding]:
    cap = limits.NEF_CAP_BYTES[code]
    estimate = summary.weight_elements  # one byte per weight once quantized to 8 bits
    if estimate < cap * limits.NEAR_CAP_RATIO:
        return []
    return [
        Finding(
            "near_nef_cap",
            f"The model's weights come to about {estimate / limits.MIB:.0f} MiB once "
            f"quantized to 8 bits: near or over visionA's working cap of "
            f"{cap // limits.MIB} MiB for a KL{code} NEF.",
            {"estimated_nef_bytes": estimate, "cap_bytes": cap},
        )
    ]
