"""A conversion job after its upload: its stages until it ends, then the NEF
downloaded and/or saved to My models. Used by ``convert`` and ``jobs``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError, outcome_error
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.transfer import download_to, into_folder
from visiona_client.visiona_cli.waiting import Waiting

POLL_SECONDS = 1.0
FINISHED = ("completed", "failed")
# --keep-onnx alone would be ignored: the ONNX is kept only beside a NEF saved to My models.
KEEP_ONNX_ALONE = "--keep-onnx needs --save NAME: the ONNX is kept only beside a saved NEF."


def check_save_options(save: str | None, *, keep_onnx: bool, saved_anyway: bool = False) -> None:
    """``--save`` and ``--keep-onnx`` as convert and jobs take them, refused before any
    request (exit 2): --keep-onnx without a save (``saved_anyway``: convert --run-on
    saves), a blank name."""
    if keep_onnx and save is None and not saved_anyway:
        raise CliError(KEEP_ONNX_ALONE, exit_code=exit_codes.BAD_INPUT)
    if save is not None and not save.strip():
        raise CliError("--save needs a name that is not blank.", exit_code=exit_codes.BAD_INPUT)


_STAGES = {"onnx": "ONNX check", "bie": "quantization (BIE)", "nef": "compilation (NEF)"}


def is_cancelled(job: dict[str, Any]) -> bool:
    """A cancelled job ends as ``failed`` with the error code ``cancelled``."""
    return job["status"] == "failed" and (job.get("error") or {}).get("code") == "cancelled"


def job_line(job: dict[str, Any]) -> str:
    stage = _STAGES.get(job.get("stage") or "", job.get("stage") or "")
    progress = job.get("progress")
    parts = ["cancelled" if is_cancelled(job) else job["status"]]
    if stage and job["status"] not in FINISHED:
        parts.append(stage)
    if progress is not None and job["status"] not in FINISHED:
        parts.append(f"{progress}%")
    return " · ".join(parts)


def wait_for_job(api: Api, waiting: Waiting, job: dict[str, Any]) -> dict[str, Any]:
    """Poll until the job completes or fails (or --timeout); Ctrl-C tells what continues
    on the server."""
    output = waiting.out
    again = (
        f"Follow it again with: visiona jobs {job['job_id']} --wait; "
        f"stop it with: visiona cancel job {job['job_id']}"
    )
    last = ""
    try:
        while True:
            line = job_line(job)
            if line != last:
                output.note(f"Job {job['job_id']}: {line}")
                last = line
            if job["status"] in FINISHED:
                return job
            waiting.pause(
                still=f"job {job['job_id']} is {job['status']}",
                follow_again=again,
                details={"job_id": job["job_id"], "status": job["status"]},
            )
            job = waiting.get_json(api, f"/api/conversion/{job['job_id']}", follow_again=again)
    except KeyboardInterrupt:
        output.note(
            f"Stopped following. Job {job['job_id']} goes on on the server ({job['status']}); "
            f"follow it again with: visiona jobs {job['job_id']} --wait; "
            f"stop it with: visiona cancel job {job['job_id']}"
        )
        raise


def download_nef(api: Api, output: Output, job: dict[str, Any], target: Path) -> dict[str, Any]:
    """The job's NEF into ``target`` (written to a .part file, renamed when complete);
    into a folder, as the model's file name with ``.nef``."""
    job_id = job["job_id"]
    target = into_folder(target, f"{Path(str(job.get('filename') or job_id)).stem}.nef")
    redirect = api.request("GET", f"/api/conversion/{job_id}/download", allow_redirects=False)
    location = redirect.headers.get("Location")
    if redirect.status_code != 302 or not location:
        raise CliError("visionA gave no download link.", exit_code=exit_codes.SERVER)
    # The link carries its own short-lived token: fetched without the bearer.
    url = api.url(location) if location.startswith("/") else location
    done = download_to(requests.Session(), output, url, target)
    output.note(f"Saved the NEF to {target} ({done} bytes).")
    return {"path": str(target), "size_bytes": done}


def save_to_models(
    api: Api, output: Output, job: dict[str, Any], name: str | None, *, keep_onnx: bool = False
) -> tuple[dict[str, Any], bool]:
    """The job's NEF in My models, and whether it was there already. Saving is idempotent
    on visionA: a job saved before answers its model as it is, under its own name (the
    name asked is not given to it), so the note says which happened."""
    request: dict[str, Any] = {"name": name} if name else {}
    if keep_onnx:
        request["keep_onnx"] = True  # the source ONNX beside it, as the runs' reference
    body = api.post_json(f"/api/conversion/{job['job_id']}/promote-to-models", request)
    model: dict[str, Any] = body["model"]
    before = job.get("saved_model") or {}
    already = before.get("id") == model["id"]
    output.note(_saved_note(job["job_id"], model, name, already=already))
    if keep_onnx and model.get("has_reference"):
        output.note("Its ONNX is kept beside it.")
    return model, already


def _saved_note(job_id: str, model: dict[str, Any], name: str | None, *, already: bool) -> str:
    saved = f"“{model['name']}” (id {model['id']})"
    if already:
        not_renamed = f"; it keeps its name, not “{name}”" if name and name != model["name"] else ""
        return (
            f"Job {job_id} was already saved to My models as {saved}: not saved again{not_renamed}."
        )
    if name and name != model["name"]:
        return f"Saved to My models as {saved}: you already have a model named “{name}”."
    return f"Saved to My models as {saved}."


def finish_job(
    api: Api,
    output: Output,
    job: dict[str, Any],
    *,
    download: Path | None,
    save: str | None,
    keep_onnx: bool = False,
) -> int:
    """After the job ended: its outcome, the download and the save. The exit code."""
    result: dict[str, Any] = {"job": job}
    if is_cancelled(job):
        output.note("The conversion was cancelled.")
        result["error"] = outcome_error(
            "job_cancelled", "The conversion was cancelled.", details={"job_id": job["job_id"]}
        )
        output.result(result)
        return exit_codes.FAILURE
    if job["status"] == "failed":
        error = job.get("error") or {}
        message = f"The conversion failed: {error.get('message') or error.get('code')}"
        output.note(message)
        if error.get("hint"):
            output.note(f"Hint: {error['hint']}")
        result["error"] = outcome_error(
            "job_failed", message, details={"job_id": job["job_id"], "job_error": error}
        )
        output.result(result)
        return exit_codes.FAILURE
    if job["status"] != "completed":
        output.say(f"Job {job['job_id']}: {job_line(job)}")
        output.result(result)
        return exit_codes.OK
    output.say(f"Job {job['job_id']} completed.")
    if download is not None:
        result["download"] = download_nef(api, output, job, download)
    if save is not None:
        result["model"], result["already_saved"] = save_to_models(
            api, output, job, save or None, keep_onnx=keep_onnx
        )
    output.result(result)
    return exit_codes.OK
