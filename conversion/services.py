"""Conversion: start a job through the streaming proxy.

visionA is the trust boundary: the user id sent to the converter is always
``user.upstream_id`` from the signed-in session, never anything the client sent.

Following jobs (refresh, find, get, cancel) is ``conversion.tracking_services``,
saving and downloading them ``conversion.saving_services``; their public functions
are importable from here too, the app's one services interface.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils import translation

from conversion import errors, limits, snapshots
from conversion.clients import budget, converter
from conversion.clients import errors as client_errors
from conversion.models import ConversionJob
from conversion.preflight import UploadPreflight
from conversion.saving_services import job_download_url, job_promote
from conversion.tracking_services import (
    active_job_find,
    active_job_forget,
    job_cancel,
    job_get,
    job_refresh,
)
from conversion.upload_lease import upload_lease
from conversion.upload_reading import request_body_blocks
from conversion.upload_stream import (
    USER_ID_PATTERN,
    RewrittenUpload,
    boundary_from_content_type,
    rewrite_upload,
)
from conversion.upstream_errors import maps_upstream_errors, require_enabled
from visiona.errors import LengthRequired, PayloadTooLarge
from visiona.models import User

__all__ = [
    "active_job_details",
    "active_job_find",
    "job_cancel",
    "job_download_url",
    "job_get",
    "job_promote",
    "job_refresh",
    "job_start",
]

logger = logging.getLogger(__name__)


@maps_upstream_errors
def job_start(
    *, user: User, stream: HttpRequest, content_type: str, content_length: int | None
) -> ConversionJob:
    """Stream the browser's multipart upload to the converter as it arrives.

    One upload per user at a time (``upload_lease``), and none while the user
    has an unfinished job.
    """
    require_enabled()
    if content_length is None:
        raise LengthRequired()
    limit = limits.max_upload_bytes()
    if content_length > limit:
        raise PayloadTooLarge(details={"limit_bytes": limit})
    boundary = boundary_from_content_type(content_type)
    if not USER_ID_PATTERN.fullmatch(user.upstream_id):
        logger.error("user id outside the converter's pattern", extra={"user": user.pk})
        raise errors.AccountNotUsable()

    with upload_lease(user=user):
        # Confirmed with the converter now: a snapshot a few seconds old must not refuse it.
        active = active_job_find(user=user, priority=budget.USER)
        if active is not None:
            raise errors.ActiveJobExists(details={"active_job": active_job_details(active)})
        checks = UploadPreflight()
        upload = rewrite_upload(
            request_body_blocks(stream, expected_length=content_length),
            boundary=boundary,
            user_id=user.upstream_id,
            observers=[checks.observer_for],
        )
        checks.fields = upload.summary.fields  # the chip, once its field has been read
        job = _create_job(user=user, upload=upload, checks=checks)
    logger.info(
        "conversion job started",
        extra={"job_id": job.job_id, "bytes": content_length, "images": upload.summary.image_count},
    )
    return job


def _create_job(*, user: User, upload: RewrittenUpload, checks: UploadPreflight) -> ConversionJob:
    try:
        snapshot = converter.create_job(body=upload.chunks, content_type=upload.content_type)
    except client_errors.UserHasActiveJob as exc:
        # Started elsewhere (another tab, another client): the converter just told
        # us it is this user's, so record it and show it.
        _record_reported_active_job(user=user, details=exc.details.get("active_job") or {})
        raise
    finally:
        active_job_forget(user=user)

    fields = upload.summary.fields
    platform = snapshot.platform or fields.get("platform")
    with translation.override("en"):  # stored neutral; pages word them per language
        warnings = checks.warnings(platform)
    job = snapshots.record(
        user=user,
        snapshot=snapshot,
        defaults={
            "chip": snapshots.chip_for(platform),
            "filename": snapshot.filename or upload.summary.model_filename or "",
            "model_id": _int_or_none(fields.get("model_id")),
            "version": (fields.get("version") or "")[:32],
            "preflight_warnings": warnings,
        },
    )
    if job is None:
        # The converter answered with the id of another user's job: a bad answer.
        raise errors.ConverterUnavailable()
    return job


def active_job_details(job: ConversionJob) -> dict:
    return {
        "job_id": job.job_id,
        "status": job.status,
        "stage": job.stage or None,
        "progress": job.progress,
        "created_at": job.created_at.isoformat(),
    }


def _record_reported_active_job(*, user: User, details: dict) -> None:
    job_id = details.get("job_id")
    if not job_id:
        return
    try:
        answer = converter.get_job(job_id)
    except client_errors.ClientError:
        return  # best effort: /active will rebuild it later
    if answer.snapshot is not None:  # asked without an ETag, so never "unchanged"
        snapshots.record(user=user, snapshot=answer.snapshot, etag=answer.etag)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
