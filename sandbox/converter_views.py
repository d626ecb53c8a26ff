"""The converter stand-in, under /sandbox/converter/ (upstreams.md §2).

Contract-faithful paths, fields, error codes and job shape; the pipeline is
simulated by the clock (sandbox.jobs). ``_inspect/`` exists only here: it shows
end-to-end tests exactly what the converter received.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock, faults, jobs, nef, quantize, store, uploads
from sandbox.http import (
    CHUNK_SIZE,
    BodyStream,
    check_service_token,
    drain,
    error,
    field_error,
    json_answer,
    read_json,
    request_body,
    validation_error,
)
from sandbox.rate_limit import limited

WRITE_SCOPE = "converter:job.write"
READ_SCOPE = "converter:job.read"
USER_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
PLATFORMS = ("520", "720", "530", "630", "730")
PROMOTE_SOURCES = ("onnx", "bie", "nef")
_SINGLE_FIELDS = ("user_id", "platform", "model_id", "version")
_LIST_STATUSES = {
    "": ("created", "running", "completed", "failed"),
    "in_progress": jobs.UNFINISHED,
    **{status: (status,) for status in ("created", "running", "completed", "failed")},
}
RETRY_AFTER_SECONDS = 5
# The in-progress list's page size; ``next_cursor`` is the next page's offset.
LIST_PAGE_SIZE = 20


@csrf_exempt
def health(request: HttpRequest) -> HttpResponse:
    return json_answer({"status": "healthy"})


@csrf_exempt
@limited
def job_collection(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create_job(request)
    if request.method == "GET":
        return _list_jobs(request)
    return _method_not_allowed(request, "GET, POST")


@csrf_exempt
@limited
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    if request.method == "DELETE":
        return _cancel_job(request, job_id)
    if request.method != "GET":
        return _method_not_allowed(request, "GET, DELETE")
    if refused := check_service_token(request, READ_SCOPE):
        return refused
    if status := faults.take("converter.get_job"):
        return error(request, status, "internal_error", "Injected fault (sandbox).")
    record = _live_job(job_id)
    if record is None:
        return _job_not_found(request)
    job = jobs.as_json(record)
    etag = '"' + hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    return json_answer(job, ETag=etag)


@csrf_exempt
@limited
def promote(request: HttpRequest, job_id: str) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    if refused := check_service_token(request, WRITE_SCOPE):
        return refused
    if status := faults.take("converter.promote"):
        return error(request, status, "storage_unavailable", "Injected fault (sandbox).")
    body = read_json(request)
    if body is None:
        return validation_error(request, [field_error("body", "Send a JSON object.")])
    user_id, targets = body.get("user_id"), body.get("targets")
    problems = _promote_problems(user_id, targets)
    if problems or not isinstance(targets, list):  # (not a list is one of the problems)
        return validation_error(request, problems)
    for target in targets:
        if not store.is_valid_object_key(target["target_object_key"]):
            return error(
                request,
                422,
                "invalid_object_key",
                "The target object key is not a valid path-like key.",
                {"target_object_key": target["target_object_key"]},
            )
    record = _live_job(job_id)
    if record is None or record["user_id"] != user_id:
        return _job_not_found(request)
    status = jobs.state(record)["status"]
    if status != "completed":
        return error(
            request,
            409,
            "job_not_ready_for_promote",
            "The job has not completed.",
            {"status": status},
        )
    return json_answer({"promoted": [_promote_one(record, target) for target in targets]})


@csrf_exempt
def inspect_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """Sandbox only, no token: the job plus what its upload carried."""
    record = store.load_job(job_id)
    if record is None:
        return _job_not_found(request)
    return json_answer(
        {
            "job": jobs.as_json(record),
            "user_id": record["user_id"],
            "fail_stage": record["fail_stage"],
            "received": record["received"],
        }
    )


def _cancel_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """DELETE: today's converter answers 501; the stand-in cancels unless told not to."""
    if refused := check_service_token(request, WRITE_SCOPE):
        return refused
    if not settings.SANDBOX_CANCEL_SUPPORTED:
        return error(request, 501, "not_implemented", "Cancelling a job is not implemented yet.")
    record = _live_job(job_id)
    if record is None:
        return _job_not_found(request)
    with store.user_lock(record["user_id"]):
        record = store.load_job(job_id)
        if record is None:  # expired and swept meanwhile
            return _job_not_found(request)
        if jobs.state(record)["status"] not in jobs.UNFINISHED:
            return error(request, 409, "job_not_cancellable", "The job has already finished.")
        record["cancelled_at"] = clock.now()
        store.save_job(record)
    return json_answer(jobs.as_json(record))


# --- Create -------------------------------------------------------------------


def _create_job(request: HttpRequest) -> HttpResponse:
    body = request_body(request)
    try:
        return _receive_job(request, body)
    finally:
        with contextlib.suppress(OSError, ValueError):  # the client went away
            drain(body)


def _receive_job(request: HttpRequest, body: BodyStream) -> HttpResponse:
    if refused := check_service_token(request, WRITE_SCOPE):
        return refused
    with store.upload_slot(settings.SANDBOX_MAX_CONCURRENT_UPLOADS) as got_slot:
        if not got_slot:
            return error(
                request,
                503,
                "service_busy",
                "Too many uploads in progress; try again later.",
                {"retry_after_seconds": RETRY_AFTER_SECONDS},
                Retry_After=str(RETRY_AFTER_SECONDS),
            )
        folder = store.new_upload_folder()
        try:
            return _create_from_upload(request, body, folder)
        finally:
            store.discard(folder)  # gone already when the job took the files


def _create_from_upload(request: HttpRequest, body: BodyStream, folder: Path) -> HttpResponse:
    limits = uploads.Limits.from_settings()
    try:
        parts = uploads.receive(body, request.META.get("CONTENT_TYPE", ""), folder, limits)
    except uploads.UploadRejected as exc:
        return error(request, exc.status, exc.code, exc.message, exc.details)
    fields, problems = _form_fields(parts)
    if problems:
        return validation_error(request, problems)
    with store.user_lock(fields["user_id"]):
        active = _active_job(fields["user_id"])
        if active is not None:
            return _user_has_active_job(request, active)
        record = _new_record(fields, parts)
        store.create_job(record, folder)
    return json_answer(jobs.as_json(record), 201)


def _form_fields(parts: list[uploads.Part]) -> tuple[dict, list[dict]]:
    texts: dict[str, list[str]] = {}
    for part in parts:
        if part.filename is None:
            texts.setdefault(part.name, []).append(part.value)
    problems = [
        field_error(name, "Give this field once.")
        for name in _SINGLE_FIELDS
        if len(texts.get(name, [])) > 1
    ]
    user_id, platform, model_id, version = (texts.get(name, [""])[0] for name in _SINGLE_FIELDS)
    if not user_id:
        problems.append(field_error("user_id", "This field is required."))
    elif not USER_ID.fullmatch(user_id):
        problems.append(
            field_error("user_id", "Use 1 to 128 letters, digits, dots, underscores or hyphens.")
        )
    if platform not in PLATFORMS:
        problems.append(field_error("platform", f"Must be one of {', '.join(PLATFORMS)}."))
    if model_id and not _is_integer(model_id):
        problems.append(field_error("model_id", "Must be an integer."))
    if len(version) > 64:
        problems.append(field_error("version", "At most 64 characters."))
    problems += _model_problems([p for p in parts if p.name == uploads.MODEL_FIELD])
    fields = {
        "user_id": user_id,
        "platform": platform,
        "model_id": int(model_id) if _is_integer(model_id) else None,
        "version": version or None,
    }
    return fields, problems


def _is_integer(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _model_problems(models: list[uploads.Part]) -> list[dict]:
    files = [part for part in models if part.filename is not None]
    if len(files) != len(models) or not files:
        return [field_error("model", "A model file is required.")]
    if len(files) > 1:
        return [field_error("model", "Send one model file.")]
    if not (files[0].filename or "").lower().endswith(".onnx"):
        return [field_error("model", "The model must be an .onnx file.")]
    if files[0].size_bytes == 0:
        return [field_error("model", "The model file is empty.")]
    return []


def _new_record(fields: dict, parts: list[uploads.Part]) -> dict:
    model = next(part for part in parts if part.name == uploads.MODEL_FIELD)
    # _model_problems let one model part through: a named file, saved.
    assert model.filename is not None and model.path is not None
    return {
        "job_id": str(uuid.uuid4()),
        **fields,
        "created": clock.now(),
        "stage_seconds": float(settings.SANDBOX_STAGE_SECONDS),
        "fail_stage": jobs.injected_failure(model.filename),
        "filename": model.filename,
        "model_file": model.path.name,
        "model_sha256": model.sha256,
        "received": {"user_id": fields["user_id"], "parts": [part.describe() for part in parts]},
    }


def _active_job(user_id: str) -> dict | None:
    now = clock.now()
    unfinished = [
        record
        for record in store.all_jobs()
        if record["user_id"] == user_id
        and not jobs.is_expired(record, now)
        and jobs.state(record, now)["status"] in jobs.UNFINISHED
    ]
    return max(unfinished, key=lambda record: record["created"], default=None)


def _user_has_active_job(request: HttpRequest, record: dict) -> HttpResponse:
    job = jobs.as_json(record)
    details = {
        "active_job_id": job["job_id"],
        "active_job_status": job["status"],
        "active_job_stage": job["stage"],
        "active_job_progress": job["progress"],
        "active_job_created_at": job["created_at"],
    }
    return error(
        request, 409, "user_has_active_job", "The user already has an unfinished job.", details
    )


# --- List, promote, helpers --------------------------------------------------------


def _list_jobs(request: HttpRequest) -> HttpResponse:
    if refused := check_service_token(request, READ_SCOPE):
        return refused
    user_id = request.GET.get("user_id", "")
    status = request.GET.get("status", "")
    problems = []
    if not USER_ID.fullmatch(user_id):
        problems.append(field_error("user_id", "A valid user_id is required."))
    if status not in _LIST_STATUSES:
        problems.append(field_error("status", "Unknown status filter."))
    if problems:
        return validation_error(request, problems)
    now = clock.now()
    found = [
        jobs.as_json(record, now)
        for record in sorted(store.all_jobs(), key=lambda record: -record["created"])
        if record["user_id"] == user_id and not jobs.is_expired(record, now)
    ]
    found = [job for job in found if job["status"] in _LIST_STATUSES[status]]
    cursor = request.GET.get("cursor", "0")
    start = int(cursor) if cursor.isdigit() else 0
    page = found[start : start + LIST_PAGE_SIZE]
    more = start + LIST_PAGE_SIZE < len(found)
    next_cursor = str(start + LIST_PAGE_SIZE) if more else None
    return json_answer({"jobs": page, "total": len(found), "next_cursor": next_cursor})


def _promote_problems(user_id: object, targets: object) -> list[dict]:
    problems = []
    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        problems.append(field_error("user_id", "A valid user_id is required."))
    if not isinstance(targets, list) or not targets:
        return [*problems, field_error("targets", "Give at least one target.")]
    for index, target in enumerate(targets):
        if not isinstance(target, dict):
            problems.append(field_error(f"targets[{index}]", "Must be an object."))
            continue
        if target.get("source") not in PROMOTE_SOURCES:
            message = f"Must be one of {', '.join(PROMOTE_SOURCES)}."
            problems.append(field_error(f"targets[{index}].source", message))
        if not isinstance(target.get("target_object_key"), str):
            problems.append(field_error(f"targets[{index}].target_object_key", "Required."))
    return problems


def _promote_one(record: dict, target: dict) -> dict:
    """Writes the artifact into the File Access Agent's store, as the converter's PUT would."""
    stored = store.put_object(target["target_object_key"], _artifact(record, target["source"]))
    return {
        "target_object_key": stored.key,
        "size_bytes": stored.size_bytes,
        "file_access_agent_etag": stored.etag,
    }


def _artifact(record: dict, source: str) -> Iterator[bytes]:
    if source == "onnx":
        with store.job_file(record["job_id"], record["model_file"]).open("rb") as file:
            yield from iter(lambda: file.read(CHUNK_SIZE), b"")
        return
    quantized = quantize.quantized_model(record)
    yield nef.build(
        platform=record["platform"],
        job_id=record["job_id"],
        model_sha256=record["model_sha256"],
        kind=source,
        model=quantized.model,
        quantization=quantized.quantization,
        model_missing=quantized.missing,
    )


def _live_job(job_id: str) -> dict | None:
    record = store.load_job(job_id)
    return None if record is None or jobs.is_expired(record) else record


def _job_not_found(request: HttpRequest) -> HttpResponse:
    return error(request, 404, "job_not_found", "The job does not exist.")


def _method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    return error(request, 405, "method_not_allowed", "Method not allowed.", Allow=allowed)
