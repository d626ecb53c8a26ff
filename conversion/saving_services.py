"""Saving a completed job's NEF into the user's models (optionally with its source
ONNX as the model's reference), and the browser's download of it from FAA.

Both promote the job's file into FAA first, once; the job's link to its saved model
(``ConversionJob.saved_model``) makes saving idempotent.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from django.conf import settings
from django.db import IntegrityError

from conversion import errors, selectors
from conversion.choices import JobStatus
from conversion.clients import budget, converter, faa, member_center
from conversion.models import ConversionJob
from conversion.tracking_services import job_refresh
from conversion.upstream_errors import maps_upstream_errors, require_enabled
from models_repo.choices import ChipSource, ModelSource
from models_repo.errors import ModelAlreadyStored
from models_repo.models import NefModel
from models_repo.reference import model_reference_store
from models_repo.services import (
    model_available_name,
    model_create_from_stream,
    model_restore,
)
from visiona.models import User
from visiona.single_flight import SingleFlightTimeout, single_flight

logger = logging.getLogger(__name__)

PROMOTE_WAIT_SECONDS = 6 * 60
FAA_READ_CHUNK = 1024 * 1024


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
        tenant_id=settings.MC_TENANT_ID,
        user_id=user.upstream_id,
        job_id=job.job_id,
        filename=job.filename,
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
                chip_source=ChipSource.CONVERSION,
                filename=f"{stem}.nef",
                chunks=download.iter_chunks(FAA_READ_CHUNK),
                faa_object_key=object_key,
                source_reference=job.job_id,
                source_label=job.filename or job.job_id,
                on_created=link_to_job,
                refuse_duplicate=True,
            )
        except ModelAlreadyStored as exc:
            # The user already has these bytes (uploaded, or saved from another job):
            # pointed to, not stored twice. No form field brought them.
            raise ModelAlreadyStored(model=exc.model, url=exc.url, field=None) from None
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
