"""Following the converter's jobs: refresh a job's snapshot (at most once per interval,
within the budget), find the user's unfinished job, get one, cancel one.

Starting a job is ``conversion.services``; saving and downloading one,
``conversion.saving_services``.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.utils import timezone, translation

from conversion import converter_status, errors, refresh_policy, selectors, snapshots
from conversion.choices import JobStatus
from conversion.clients import budget, converter
from conversion.clients import errors as client_errors
from conversion.models import ConversionJob
from conversion.upstream_errors import maps_upstream_errors, require_enabled
from visiona.models import User
from visiona.single_flight import SingleFlightTimeout, single_flight

logger = logging.getLogger(__name__)

# How long "the user's active job" (or "none") is shared between callers before
# the converter is asked again. Starting a job clears it.
ACTIVE_JOB_CACHE_SECONDS = 10
LOST_JOB_CODE = errors.JobLost.code


def _active_cache_key(user: User) -> str:
    return f"conversion:active:{user.pk}"


def active_job_forget(*, user: User) -> None:
    """Ask the converter again at the next look for the user's active job."""
    cache.delete(_active_cache_key(user))


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
