"""The pre-flight report as text, for the command line."""

from __future__ import annotations

from visiona_client.preflight.rules import Report


def format_report(report: Report) -> str:
    summary = report.summary
    lines: list[str] = []
    chip = report.chip or "any chip"
    verdict = "OK" if report.ok else "BLOCKED"
    lines.append(f"Pre-flight for {chip}: {verdict}")
    if summary.is_onnx:
        opsets = ", ".join(
            f"{domain or 'ai.onnx'} {version}"
            for domain, version in sorted(summary.opset_imports.items())
        )
        lines.append(
            f"  ONNX IR {summary.ir_version}, opset {opsets or 'none'}, "
            f"{summary.node_count} nodes, {summary.size_bytes:,} bytes"
        )
        for value in summary.inputs:
            shape = (
                "?"
                if value.shape is None
                else "x".join("?" if dim is None else str(dim) for dim in value.shape)
            )
            lines.append(f"  input {value.name}: {shape}")
    for title, findings in (("Blockers", report.blockers), ("Warnings", report.warnings)):
        if not findings:
            continue
        lines.append(f"{title}:")
        for finding in findings:
            text = finding.message.replace("\n", "\n      ")
            lines.append(f"  - [{finding.code}] {text}")
    conditional = [row for row in report.operators if row["support"] == "npu_if"]
    if conditional:
        lines.append("On the NPU if Kneron's conditions hold (else on the CPU):")
        for row in conditional:
            lines.append(f"  - {row['op_type']} ({row['count']}): note {row['note']}")
    return "\n".join(lines)
