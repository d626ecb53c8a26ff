"""What ``visiona run`` prints for people: latency, agreement, expectations."""

from __future__ import annotations

from typing import Any

from visiona_client.visiona_cli.output import Output


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.{digits}f}"


def _no_agreement(run: dict[str, Any]) -> str:
    """Why there are no agreement figures: only "no reference" when there is none."""
    if run.get("state") != "completed":
        return f"none, as the run {run.get('state')}"
    reference = run.get("reference") or {}
    state = reference.get("state")
    if state == "failed":
        return f"visionA could not compute it: {reference.get('error') or 'no reason given'}"
    if state in ("pending", "computing"):
        return f"visionA has not finished computing it ({state}); see it on the run's page"
    if state == "done":
        return "none: the outputs could not be compared (see the run's page)"
    return "no reference (give --reference model.onnx, or keep the ONNX on visionA)"


def report(
    out: Output,
    run: dict[str, Any],
    agreement: dict[str, Any] | None,
    checks: list[dict[str, Any]],
    *,
    reference_source: str,
) -> None:
    out.say(f"Run {run['id']}: {run['state']}")
    if run.get("error_message"):
        out.say(f"  {run['error_code']}: {run['error_message']}")
    failed = [i for i in run.get("inputs") or [] if i.get("state") == "failed"]
    for entry in failed:
        out.say(f"  input {entry['name']}: {entry.get('error_code')}: {entry.get('error_message')}")
    latency = run.get("latency")
    if latency:
        out.say(
            f"Latency ({run.get('runtime') or 'device'}): p50 {latency['p50_ms']:.3f} ms, "
            f"p90 {latency['p90_ms']:.3f} ms, {latency['throughput']:.1f} inferences/s "
            f"({latency['count']} timed)"
        )
    if agreement:
        out.say(f"Agreement with the original model ({reference_source}):")
        rows = [
            [
                name,
                str(figures["inputs"]),
                _number(figures["cosine"], 6),
                _number(figures["cosine_mean"], 6),
                _number(figures["max_abs"]),
                _number(figures["mean_abs"]),
                _number(figures["top1"], 3),
                _number(figures["top5"], 3),
            ]
            for name, figures in agreement["outputs"].items()
        ]
        out.table(
            rows,
            [
                "output",
                "inputs",
                "cosine min",
                "cosine mean",
                "max abs",
                "mean abs",
                "top1",
                "top5",
            ],
        )
    else:
        out.say(f"Agreement: {_no_agreement(run)}")
    for check in checks:
        verdict = "passed" if check["passed"] else "FAILED"
        value = "not measured" if check["value"] is None else _number(check["value"], 6)
        out.say(f"Expect {check['expectation']}: {verdict} ({value})")
