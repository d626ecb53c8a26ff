"""What ``visiona run`` prints for people: latency, agreement, expectations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from visiona_client.visiona_cli.output import Output


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.{digits}f}"


def _no_agreement(run: dict[str, Any], *, none_ran: bool) -> str:
    """Why there are no agreement figures: only "no reference" when there is none."""
    if run.get("state") != "completed":
        return f"none, as the run {run.get('state')}"
    if none_ran:
        return "none: the device refused every input"
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
    failed_inputs: Sequence[dict[str, Any]] = (),
    none_ran: bool = False,
) -> None:
    """``failed_inputs``: the inputs the device refused (``GET /api/runs/<id>/inputs``:
    the run's own answer does not list them); ``none_ran``: it refused every one."""
    state = run["state"]
    if failed_inputs and state == "completed":
        refused = f"{len(failed_inputs)} of {run.get('inputs_count') or len(failed_inputs)}"
        state = f"completed, but the device refused {refused} inputs"
    out.say(f"Run {run['id']}: {state}")
    if run.get("error_message"):
        out.say(f"  {run['error_code']}: {run['error_message']}")
    for entry in failed_inputs:
        out.say(
            f"  input {entry['name']}: {entry.get('error_code') or 'failed'}: "
            f"{entry.get('error_message') or 'no reason given'}"
        )
    latency = run.get("latency")
    if latency:
        out.say(
            f"Latency ({run.get('runtime') or 'device'}): p50 {latency['p50_ms']:.3f} ms, "
            f"p90 {latency['p90_ms']:.3f} ms, {latency['throughput']:.1f} inferences/s "
            f"({latency['count']} timed)"
        )
    elif none_ran:
        out.say("Latency: none: the device refused every input")
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
        out.say(f"Agreement: {_no_agreement(run, none_ran=none_ran)}")
    for check in checks:
        verdict = "passed" if check["passed"] else "FAILED"
        value = "not measured" if check["value"] is None else _number(check["value"], 6)
        out.say(f"Expect {check['expectation']}: {verdict} ({value})")
