"""Conversion: start a job through the streaming proxy, follow it, save it, download it.

visionA is the trust boundary: the user id sent to the converter is always
``user.upstream_id`` from the signed-in session, never anything the client sent.
"""

from __future__ import annotations

import logging
import time
from pathlib import PurePosixPath

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone, translation

from conversion import converter_status, errors, limits, refresh_policy, selectors, snapshots
from conversion.choices import JobStatus
from conversion.clients import budget, converter, faa, member_center
from conversion.clients import errors as client_errors
from conversion.models import ConversionJob
from conversion.preflight import UploadPreflight
from conversion.upload_lease import upload_lease
from conversion.upload_reading import request_body_blocks
from conversion.upload_stream import (
    USER_ID_PATTERN,
    RewrittenUpload,
    boundary_from_content_type,
    rewrite_upload,
)
from conversion.upstream_errors import maps_upstream_errors, require_enabled
from models_repo.choices import ModelSource
from models_repo.models import NefModel
from models_repo.reference import model_reference_store
from models_repo.services import (
    model_available_name,
    model_create_from_stream,
    model_restore,
)
from visiona.errors import LengthRequired, PayloadTooLarge
from visiona.models import User
from visiona.single_flight import SingleFlightTimeout, single_flight

logger = logging.getLogger(__name__)

# How long "the user's active job" (or "none") is shared between callers before
# the converter is asked again. Starting a job clears it.
ACTIVE_JOB_CACHE_SECONDS = 10
PROMOTE_WAIT_SECONDS = 6 * 60
LOST_JOB_CODE = errors.JobLost.code
FAA_READ_CHUNK = 1024 * 1024


def _active_cache_key(user: User) -> str:
    return f"conversion:active:{user.pk}"


# --- Starting a job ----------------------------------------------------------


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
        cache.delete(_active_cache_key(user))

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


# --- Following jobs --------------------------------------------------------


@maps_upstream_errors
def job_refresh(*, job: ConversionJob, priority: str = budget.BACKGROUND) -> ConversionJob:
    """Update the snapshot from the converter while the job is unfinished.

    A finished job never changes, and the converter forgets it after 7 days:
    its last snapshot is then the history. A background refresh (a poll, a page)
    asks the converter at most once per job per interval, whoever watches it
    (``refresh_policy``), within the shared budget; everyone else is served the
    stored snapshot. A user's action (``budget.USER``) always asks.
    """
    if job.is_finished:
        return job
    claim = refresh_policy.claim(job.job_id)
    job.checked_at = claim.checked_at
    if priority == budget.BACKGROUND and not claim.claimed:
        return job
    try:
        answer = converter.get_job(job.job_id, etag=job.upstream_etag, priority=priority)
    except client_errors.BudgetExhausted:
        return job  # the budget is for users now: the snapshot stands until next time
    except client_errors.JobNotFound:
        # Expired or lost upstream while we last saw it running: it will never
        # finish, and left unfinished it would block every new upload.
        logger.warning("converter no longer knows job", extra={"job_id": job.job_id})
        return _mark_lost(job)
    job.checked_at = time.time()
    if answer.snapshot is None:
        return job  # 304: unchanged, nothing to write
    return snapshots.apply(job, answer.snapshot, etag=answer.etag)


def _mark_lost(job: ConversionJob) -> ConversionJob:
    job.status = JobStatus.FAILED
    job.error_code = LOST_JOB_CODE
    with translation.override("en"):  # stored neutral; pages show it translated
        job.error_message = str(errors.JobLost.message)
    job.error_stage = job.stage
    job.finished_at = timezone.now()
    job.save()
    return job


@maps_upstream_errors
def job_get(*, user: User, job_id: str) -> ConversionJob:
    require_enabled()
    return job_refresh(job=selectors.job_get_for_user(user=user, job_id=job_id))


@maps_upstream_errors
def active_job_find(*, user: User, priority: str = budget.BACKGROUND) -> ConversionJob | None:
    """The user's unfinished job, confirmed with the converter, or None.

    When the database knows none (data lost, job started elsewhere) the
    converter's in-progress list rebuilds ownership. Concurrent callers for one
    user share one converter call; other users never wait on them.
    """
    require_enabled()
    for job in selectors.jobs_unfinished_for_user(user=user).order_by("-created_at"):
        job = job_refresh(job=job, priority=priority)
        if not job.is_finished:
            return job
    try:
        job_id = single_flight(
            _active_cache_key(user),
            lambda: _rebuild_active_job(user=user),
            ttl=ACTIVE_JOB_CACHE_SECONDS,
            wait=30,
        )
    except SingleFlightTimeout:
        raise errors.ConverterUnavailable() from None
    if not job_id:
        return None
    rebuilt = ConversionJob.objects.filter(owner=user, job_id=job_id).first()
    return rebuilt if rebuilt is not None and not rebuilt.is_finished else None


def _rebuild_active_job(*, user: User) -> str:
    found = ""
    for snapshot in converter.list_in_progress(user_id=user.upstream_id):
        job = snapshots.record(user=user, snapshot=snapshot)
        if job is not None and not job.is_finished and not found:
            found = job.job_id
    if found:
        logger.info("active job recovered from converter", extra={"job_id": found})
    return found


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


@maps_upstream_errors
def job_cancel(*, user: User, job_id: str) -> ConversionJob:
    """Cancel the user's unfinished job where the converter can (501 ``cancel_not_supported``
    where it cannot: today's converter)."""
    require_enabled()
    job = selectors.job_get_for_user(user=user, job_id=job_id)
    if job.is_finished:
        raise errors.JobNotCancellable()
    try:
        converter.cancel_job(job.job_id)
    except client_errors.CancelNotSupported:
        converter_status.remember_cancel_support(False)
        raise
    converter_status.remember_cancel_support(True)
    logger.info("conversion job cancelled", extra={"job_id": job.job_id})
    return job_refresh(job=job, priority=budget.USER)


# --- Saving and downloading --------------------------------------------------


@maps_upstream_errors
def job_promote(
    *, user: User, job_id: str, name: str | None = None, keep_onnx: bool = False
) -> NefModel:
    """Save the job's NEF into the user's models; idempotent.

    The job's link to its saved model (``ConversionJob.saved_model``) is the source
    of truth: repeated or simultaneous calls return that model and create nothing
    new; saving again after deleting it brings it back. ``keep_onnx`` also keeps the
    job's source ONNX as the model's reference (docs/runs.md), once.
    """
    require_enabled()
    job = selectors.job_get_for_user(user=user, job_id=job_id)
    existing = _saved_model(job, name=name)
    if existing is not None:
        return _keep_onnx(user=user, job=job, model=existing) if keep_onnx else existing
    job = _require_completed(job)
    try:
        model_pk = single_flight(
            f"conversion:promote:{job.pk}",
            lambda: _promote_and_store(user=user, job=job, name=name),
            ttl=60,
            lock_timeout=PROMOTE_WAIT_SECONDS,
            wait=PROMOTE_WAIT_SECONDS,
        )
    except SingleFlightTimeout:
        raise errors.ConverterUnavailable() from None
    model = NefModel.objects.prefetch_related("platforms").get(pk=model_pk)
    return _keep_onnx(user=user, job=job, model=model) if keep_onnx else model


def _keep_onnx(*, user: User, job: ConversionJob, model: NefModel) -> NefModel:
    """The converter's promote of the ``onnx`` source, streamed from FAA into the
    model's reference (a model that already keeps one is left as it is)."""
    if model.has_reference:
        return model
    object_key = faa.object_key_for_job(
        tenant_id=settings.MC_TENANT_ID, user_id=user.upstream_id, job_id=job.job_id, source="onnx"
    )
    converter.promote(
        job.job_id, user_id=user.upstream_id, target_object_key=object_key, source="onnx"
    )
    stem = PurePosixPath(job.filename or "model.onnx").stem or "model"
    with faa.open_file(object_key) as download:
        try:
            model = model_reference_store(
                model=model, filename=f"{stem}.onnx", chunks=download.iter_chunks(FAA_READ_CHUNK)
            )
        except OSError as exc:
            logger.exception("storing a reference failed", extra={"job_id": job.job_id})
            raise errors.StorageUnavailable() from exc
    logger.info("conversion source kept", extra={"job_id": job.job_id, "model_id": model.pk})
    return model


@maps_upstream_errors
def job_download_url(*, user: User, job_id: str) -> str:
    """Where the browser fetches the NEF from FAA, with a short-lived delegated token.

    The URL carries a secret: it goes into a 302 Location only, never a body or a log.
    """
    require_enabled()
    job = _require_completed(selectors.job_get_for_user(user=user, job_id=job_id))
    object_key = _ensure_promoted(user=user, job=job)
    token = member_center.download_token(
        tenant_id=settings.MC_TENANT_ID, user_id=user.upstream_id, object_key=object_key
    )
    logger.info("download token issued", extra={"job_id": job.job_id})
    return faa.file_url(object_key, access_token=token.token)


def _require_completed(job: ConversionJob) -> ConversionJob:
    job = job_refresh(job=job, priority=budget.USER)
    if job.status != JobStatus.COMPLETED:
        raise errors.JobNotCompleted()
    return job


def _saved_model(job: ConversionJob, *, name: str | None = None) -> NefModel | None:
    """The model the job was saved as, read afresh, or None if it never was (or is gone).

    Saving again after deleting brings the model back: the repository's restore, under
    the name asked for this time (else its old one), renamed if that is taken. A live
    model is returned as it is: saving twice creates nothing and renames nothing.
    """
    model_pk = ConversionJob.objects.filter(pk=job.pk).values_list("saved_model", flat=True).first()
    model = NefModel.objects.filter(pk=model_pk).first() if model_pk is not None else None
    return model_restore(model=model, name=name) if model is not None else None


class _SavedElsewhere(Exception):
    """Another request linked this job to a model first: ours is undone."""


def _ensure_promoted(*, user: User, job: ConversionJob) -> str:
    if job.faa_object_key:
        return job.faa_object_key
    object_key = faa.object_key_for_job(
        tenant_id=settings.MC_TENANT_ID, user_id=user.upstream_id, job_id=job.job_id
    )
    converter.promote(job.job_id, user_id=user.upstream_id, target_object_key=object_key)
    ConversionJob.objects.filter(pk=job.pk).update(faa_object_key=object_key)
    job.faa_object_key = object_key
    return object_key


def _promote_and_store(*, user: User, job: ConversionJob, name: str | None) -> int:
    existing = _saved_model(job, name=name)  # someone finished while we waited for the lock
    if existing is not None:
        return existing.pk
    object_key = _ensure_promoted(user=user, job=job)
    stem = PurePosixPath(job.filename or "model.onnx").stem or "model"

    def link_to_job(model: NefModel) -> None:
        # In the model's transaction: if the job is already linked, the new model
        # and its file are undone and the first one stands.
        linked = ConversionJob.objects.filter(pk=job.pk, saved_model__isnull=True).update(
            saved_model=model
        )
        if not linked:
            raise _SavedElsewhere()

    with faa.open_file(object_key) as download:
        try:
            model = model_create_from_stream(
                owner=user,
                name=model_available_name(owner=user, wanted=(name or stem)[:200]),
                chips=[job.chip],
                source=ModelSource.CONVERTED,
                filename=f"{stem}.nef",
                chunks=download.iter_chunks(FAA_READ_CHUNK),
                faa_object_key=object_key,
                source_reference=job.job_id,
                source_label=job.filename or job.job_id,
                on_created=link_to_job,
            )
        except (_SavedElsewhere, IntegrityError):
            # Another instance saved it first (or took the name): theirs stands.
            theirs = _saved_model(job)
            if theirs is None:
                raise
            return theirs.pk
        except OSError as exc:
            logger.exception("storing a model failed", extra={"job_id": job.job_id})
            raise errors.StorageUnavailable() from exc
    logger.info("conversion saved as model", extra={"job_id": job.job_id, "model_id": model.pk})
    return model.pk


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
