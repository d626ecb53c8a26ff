"""A job's snapshot: the converter's view of it, recorded on the ownership row."""

from __future__ import annotations

import logging

from django.db import IntegrityError
from django.utils import timezone

from conversion.clients.converter import JobSnapshot
from conversion.models import FILENAME_MAX_LENGTH, ConversionJob
from visiona.chips import Chip
from visiona.file_names import shorten_file_name
from visiona.models import User

logger = logging.getLogger(__name__)


def record(
    *, user: User, snapshot: JobSnapshot, defaults: dict | None = None, etag: str = ""
) -> ConversionJob | None:
    """Create or refresh the ownership row for a job the converter says is ``user``'s;
    None when that row belongs to someone else."""
    job = ConversionJob.objects.filter(job_id=snapshot.job_id).first()
    if job is None:
        fields = {
            "chip": chip_for(snapshot.platform),
            "filename": snapshot.filename or "",
            **(defaults or {}),
        }
        # The name as sent may be longer than the column (nothing upstream bounds it).
        fields["filename"] = shorten_file_name(fields["filename"], max_chars=FILENAME_MAX_LENGTH)
        try:
            job = ConversionJob.objects.create(
                job_id=snapshot.job_id,
                owner=user,
                upstream_etag=etag,
                **fields,
                **_snapshot_fields(snapshot),
            )
        except IntegrityError:
            job = ConversionJob.objects.get(job_id=snapshot.job_id)
    if job.owner_id != user.pk:
        # The converter filed it under this user's id, but the row says otherwise:
        # never hand one user's job to another.
        logger.error("job ownership conflict", extra={"job_id": snapshot.job_id})
        return None
    return apply(job, snapshot, etag=etag)


def apply(job: ConversionJob, snapshot: JobSnapshot, *, etag: str = "") -> ConversionJob:
    """Copy what changed onto the row and write only that (nothing when unchanged)."""
    changed = []
    for field, value in {**_snapshot_fields(snapshot), "upstream_etag": etag}.items():
        if getattr(job, field) != value:
            setattr(job, field, value)
            changed.append(field)
    if job.is_finished and job.finished_at is None:
        job.finished_at = snapshot.updated_at or timezone.now()
        changed.append("finished_at")
    if changed:
        job.save(update_fields=[*changed, "refreshed_at"])
    return job


def _snapshot_fields(snapshot: JobSnapshot) -> dict:
    return {
        "status": snapshot.status,
        "stage": snapshot.stage or "",
        "progress": snapshot.progress,
        "stage_progress": snapshot.stage_progress,
        "error_code": (snapshot.error_code or "")[:64],
        "error_message": snapshot.error_message or "",
        "error_stage": (snapshot.error_stage or "")[:8],
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
        "expires_at": snapshot.expires_at,
        "stage_timings": snapshot.stage_timings,
        "queue_position": snapshot.queue_position,
    }


def chip_for(platform_code: str | None) -> str:
    try:
        return Chip.from_platform_code(str(platform_code)).value
    except ValueError:
        return ""
