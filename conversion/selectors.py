"""Reads about conversion jobs. Ownership is enforced here: another user's job
is indistinguishable from an unknown one."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from conversion.choices import UNFINISHED_STATUSES, JobStatus
from conversion.errors import JobNotFound
from conversion.hints import CANCELLED_CODE, CANCELLED_STATUS
from conversion.models import ConversionJob
from visiona.models import User


def job_list_for_user(*, user: User) -> QuerySet[ConversionJob]:
    return ConversionJob.objects.filter(owner=user).select_related("saved_model")


def job_history_for_user(
    *,
    user: User,
    status: str = "",
    chip: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[ConversionJob]:
    """The user's jobs for the history (page and API), filtered; the caller orders.
    ``status`` is a JobStatus, or ``cancelled`` (failed with the cancel's code)."""
    jobs = job_list_for_user(user=user)
    if status == CANCELLED_STATUS:
        # Cancelled is no status of its own: a failure with the cancel's code.
        jobs = jobs.filter(status=JobStatus.FAILED, error_code=CANCELLED_CODE)
    elif status:
        jobs = jobs.filter(status=status)
    if chip:
        jobs = jobs.filter(chip=chip)
    if created_after is not None:
        jobs = jobs.filter(created_at__gte=created_after)
    if created_before is not None:
        jobs = jobs.filter(created_at__lt=created_before)
    return jobs


def job_get_for_user(*, user: User, job_id: str) -> ConversionJob:
    # Without the saved model's join (what the lists need against N+1): this is every
    # poll's query, the saved model is asked for only when there is one.
    try:
        return ConversionJob.objects.get(owner=user, job_id=job_id)
    except ConversionJob.DoesNotExist:
        raise JobNotFound() from None


def jobs_unfinished_for_user(*, user: User) -> QuerySet[ConversionJob]:
    return ConversionJob.objects.filter(owner=user, status__in=UNFINISHED_STATUSES)
