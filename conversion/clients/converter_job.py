"""The converter's job, as its answers describe it (GET, the list, create's subset).

``stage`` is null once completed; ``progress``/``stage_progress`` may be missing; a
missing ``expires_at`` is ``created_at`` + 7 days. Anything malformed is the
converter misbehaving (``ConverterUnavailable``), never a crash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversion.clients import errors
from visiona.file_names import shorten_file_name

STATUSES = ("created", "running", "completed", "failed")
STAGES = ("onnx", "bie", "nef")
JOB_LIFETIME = timedelta(days=7)
# A finished job's time per stage: {"onnx": seconds, ...} (our reading of its README).
STAGE_TIMINGS_FIELD = "stage_timings"
# Where the converter gives it, a created job's place in its queue.
QUEUE_POSITION_FIELD = "queue_position"
# ConversionJob.filename's width (clients import no models).
FILE_NAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class JobSnapshot:
    """What the converter says about a job at one moment."""

    job_id: str
    status: str
    stage: str | None
    progress: int
    stage_progress: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    filename: str | None = None
    platform: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_stage: str | None = None
    stage_timings: dict[str, float] | None = None
    queue_position: int | None = None

    @classmethod
    def from_json(cls, data: object) -> JobSnapshot:
        """Parse a job; anything malformed is the converter misbehaving."""
        if not isinstance(data, dict):
            raise errors.ConverterUnavailable()
        job_id = data.get("job_id")
        status = data.get("status")
        if not isinstance(job_id, str) or not _valid_job_id(job_id) or status not in STATUSES:
            raise errors.ConverterUnavailable()
        created_at = _datetime(data.get("created_at")) or timezone.now()
        stage = data.get("stage") if data.get("stage") in STAGES else None
        error_field = data.get("error")
        error = error_field if isinstance(error_field, dict) else {}
        completed = status == "completed"
        return cls(
            job_id=job_id,
            status=status,
            stage=None if completed else stage,
            progress=100 if completed else percent(data.get("progress")),
            stage_progress=100 if completed else percent(data.get("stage_progress")),
            created_at=created_at,
            updated_at=_datetime(data.get("updated_at")) or created_at,
            expires_at=_datetime(data.get("expires_at")) or created_at + JOB_LIFETIME,
            filename=_file_name(_nested(data, "input", "filename")),
            platform=text_value(_nested(data, "parameters", "platform")),
            error_code=text_value(error.get("code")),
            error_message=text_value(error.get("message"), limit=2000),
            error_stage=error.get("stage") if error.get("stage") in STAGES else None,
            stage_timings=_stage_timings(data.get(STAGE_TIMINGS_FIELD)),
            queue_position=_queue_position(data.get(QUEUE_POSITION_FIELD)),
        )


@dataclass(frozen=True)
class JobAnswer:
    """A job lookup: the snapshot, or None when unchanged since ``etag`` (304)."""

    snapshot: JobSnapshot | None
    etag: str


def _stage_timings(value: object) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    timings: dict[str, float] = {}
    for stage in STAGES:
        seconds = value.get(stage)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
            timings[stage] = round(float(seconds), 3)
    return timings or None


def _queue_position(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1_000_000:
        return value
    return None


def _valid_job_id(value: str) -> bool:
    # The converter's ids are UUIDs; refusing anything else keeps odd strings
    # out of our URLs and database.
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _nested(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _file_name(value: object) -> str | None:
    """The uploaded file's name, as long as a column takes and with its extension:
    a name cut to ``m…m`` without ``.onnx`` would name the saved model's file badly."""
    text = text_value(value, limit=4096)
    return None if text is None else shorten_file_name(text, max_chars=FILE_NAME_MAX_LENGTH)


def text_value(value: object, limit: int = 255) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)[:limit]
    return None


def percent(value: object) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0, min(100, int(value)))
    return 0


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed is None:
        return None
    # A time without an offset is the converter's UTC (its clock and JSON are UTC).
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
