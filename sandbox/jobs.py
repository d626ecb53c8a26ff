"""The fake converter's pipeline: a job's state follows from the clock alone.

A record holds when the job was created and how long each stage takes; every
read works out status, stage and progress from the time elapsed, so no worker
has to run. A model file named like ``yolo-fail-bie.onnx`` fails at that stage.
"""

from __future__ import annotations

import math
import re

from sandbox import clock

STAGES = ("onnx", "bie", "nef")
UNFINISHED = ("created", "running")
RETENTION_SECONDS = 7 * 24 * 3600
# Before the first stage the job waits in the queue this share of a stage.
_QUEUED_SHARE = 0.25
# A job set to fail stops halfway through that stage.
_FAILS_AT_SHARE = 0.5
FAILURES = {
    "onnx": ("onnx_invalid", "The ONNX model could not be parsed or uses unsupported operators."),
    "bie": ("quantization_failed", "Quantization failed: the model could not be converted to BIE."),
    "nef": ("compile_failed", "Compilation failed: the model could not be compiled to NEF."),
}
_FAILURE_MARK = re.compile(r"fail-(onnx|bie|nef)", re.IGNORECASE)


def injected_failure(filename: str) -> str | None:
    """The stage a model file asks to fail at, by its name (docs/sandbox.md)."""
    match = _FAILURE_MARK.search(filename)
    return match.group(1).lower() if match else None


def state(record: dict, now: float | None = None) -> dict:
    """status, stage, progress, stage_progress and updated_at at time ``now``."""
    now = clock.now() if now is None else now
    stage_seconds = record["stage_seconds"]
    started = record["created"] + _QUEUED_SHARE * stage_seconds
    finished = started + len(STAGES) * stage_seconds
    fail_stage = record.get("fail_stage")
    if fail_stage:
        finished = started + (STAGES.index(fail_stage) + _FAILS_AT_SHARE) * stage_seconds
    cancelled = record.get("cancelled_at")
    if cancelled is not None and cancelled < finished:
        finished = cancelled
        fail_stage = None
    if now < started and (cancelled is None or now < cancelled):
        queued = _state("created", "onnx", 0, 0, record["created"])
        # Simulated: the job moves up its queue as its wait runs out (3, 2, 1).
        left = (started - now) / max(started - record["created"], 1e-9)
        return {**queued, "queue_position": max(1, math.ceil(3 * left))}
    if cancelled is not None and now >= cancelled:
        return _cancelled(record, started, cancelled, stage_seconds)
    if now >= finished:
        if not fail_stage:
            done = _state("completed", None, 100, 100, finished)
            return {**done, "stage_timings": dict.fromkeys(STAGES, float(stage_seconds))}
        progress = int(100 * (STAGES.index(fail_stage) + _FAILS_AT_SHARE) / len(STAGES))
        failed = _state("failed", fail_stage, progress, int(100 * _FAILS_AT_SHARE), finished)
        timings = _timings(finished - started, stage_seconds)
        return {**failed, "error": _error(fail_stage), "stage_timings": timings}
    stage_index = min(int((now - started) // stage_seconds), len(STAGES) - 1)
    return _state("running", STAGES[stage_index], *_progress(now - started, stage_seconds), now)


def _timings(elapsed: float, stage_seconds: float) -> dict:
    """Seconds spent in each stage reached within ``elapsed`` seconds of running."""
    timings = {}
    for index, stage in enumerate(STAGES):
        spent = min(stage_seconds, elapsed - index * stage_seconds)
        if spent <= 0:
            break
        timings[stage] = round(spent, 3)
    return timings


def _cancelled(record: dict, started: float, cancelled: float, stage_seconds: float) -> dict:
    ran = max(0.0, cancelled - started)
    stage_index = min(int(ran // stage_seconds), len(STAGES) - 1) if stage_seconds else 0
    progress, stage_progress = _progress(ran, stage_seconds) if stage_seconds else (0, 0)
    failed = _state("failed", STAGES[stage_index], progress, stage_progress, cancelled)
    error = {"code": "cancelled", "message": "The job was cancelled.", "stage": STAGES[stage_index]}
    return {**failed, "error": error, "stage_timings": _timings(ran, stage_seconds)}


def _progress(elapsed: float, stage_seconds: float) -> tuple[int, int]:
    overall = int(100 * elapsed / (len(STAGES) * stage_seconds))
    in_stage = int(100 * (elapsed % stage_seconds) / stage_seconds)
    return min(overall, 99), in_stage


def _state(status, stage, progress, stage_progress, updated) -> dict:
    return {
        "status": status,
        "stage": stage,
        "progress": progress,
        "stage_progress": stage_progress,
        "updated": updated,
    }


def _error(stage: str) -> dict:
    code, message = FAILURES[stage]
    return {"code": code, "message": message, "stage": stage}


def is_expired(record: dict, now: float | None = None) -> bool:
    now = clock.now() if now is None else now
    return now >= record["created"] + RETENTION_SECONDS


def as_json(record: dict, now: float | None = None) -> dict:
    """The job as the converter answers it (upstreams.md, "Job")."""
    current = state(record, now)
    job = {
        "job_id": record["job_id"],
        "status": current["status"],
        "stage": current["stage"],
        "progress": current["progress"],
        "stage_progress": current["stage_progress"],
        "created_at": clock.iso8601(record["created"]),
        "updated_at": clock.iso8601(current["updated"]),
        "expires_at": clock.iso8601(record["created"] + RETENTION_SECONDS),
        "input": {"filename": record["filename"]},
        "parameters": {
            "platform": record["platform"],
            "model_id": record["model_id"],
            "version": record["version"],
        },
    }
    if "error" in current:
        job["error"] = current["error"]
    for optional in ("stage_timings", "queue_position"):
        if optional in current:
            job[optional] = current[optional]
    return job
