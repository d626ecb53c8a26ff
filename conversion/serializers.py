"""The conversion API's JSON shapes: a job as every answer gives it, the upload form as
the OpenAPI document describes it, and the small envelopes around them."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from conversion import limits, preflight
from conversion.choices import JobStatus
from conversion.hints import failure_hint
from conversion.models import ConversionJob
from models_repo.serializers import ModelOutputSerializer
from visiona.chips import Chip


class PreflightWarningSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="cpu_operator, unlisted_operator, dynamic_shape, batch_size, near_nef_cap…"
    )
    message = serializers.CharField(help_text="In the user's language.")
    note = serializers.CharField(
        allow_blank=True, help_text="Kneron's condition note for the operator, or empty."
    )
    details = serializers.DictField()


class StageTimingsSerializer(serializers.Serializer):
    onnx = serializers.FloatField(required=False, help_text="Seconds in the ONNX stage.")
    bie = serializers.FloatField(required=False, help_text="Seconds in quantization (BIE).")
    nef = serializers.FloatField(required=False, help_text="Seconds in compilation (NEF).")


STAGE_TIMING_KEYS = ("onnx", "bie", "nef")
# One shared, stateless instance: the answer's dates in the request's time zone, as DRF writes them.
_DATETIME = serializers.DateTimeField()


def _datetime_or_none(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


class JobOutputSerializer(serializers.Serializer):
    # Declared fields, not a ModelSerializer: building a ModelSerializer's fields from
    # the model on every answer was a third of a poll's CPU time. The bounds are
    # declared too: DRF would take them from the database (none on SQLite, smallint
    # on PostgreSQL), and the document must not depend on it.
    job_id = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    stage = serializers.SerializerMethodField()
    progress = serializers.IntegerField(min_value=0, max_value=100, allow_null=True)
    stage_progress = serializers.IntegerField(min_value=0, max_value=100, allow_null=True)
    chip = serializers.ChoiceField(choices=Chip.choices, allow_blank=True)
    platform = serializers.CharField(source="platform_code", read_only=True)
    filename = serializers.CharField(allow_blank=True)
    model_id = serializers.IntegerField(min_value=0, max_value=limits.MAX_MODEL_ID, allow_null=True)
    version = serializers.CharField(allow_blank=True)
    error = serializers.SerializerMethodField()
    stage_timings = StageTimingsSerializer(
        allow_null=True, help_text="Time per stage, where the converter gives it (when finished)."
    )
    queue_position = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        help_text="The job's place in the converter's queue while it waits, where given.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    checked_at = serializers.SerializerMethodField(
        help_text="When the converter was last asked about this job (null when unknown)."
    )
    saved_model = serializers.SerializerMethodField()
    preflight_warnings = serializers.SerializerMethodField()

    def to_representation(self, job: ConversionJob) -> dict:
        # Written out by hand: DRF's generic one deep-copies every declared field for
        # each answer and dispatches per field, the largest cost of a poll after its
        # two queries. The declarations above remain the document (the OpenAPI schema);
        # tests/conversion/test_job_output.py holds this to DRF's generic output.
        timings = job.stage_timings
        return {
            "job_id": job.job_id,
            "status": job.status,
            "stage": self.get_stage(job),
            "progress": job.progress,
            "stage_progress": job.stage_progress,
            "chip": job.chip,
            "platform": job.platform_code,
            "filename": job.filename,
            "model_id": job.model_id,
            "version": job.version,
            "error": self.get_error(job),
            "stage_timings": None
            if timings is None
            else {
                stage: None if timings[stage] is None else float(timings[stage])
                for stage in STAGE_TIMING_KEYS
                if stage in timings
            },
            "queue_position": job.queue_position,
            "created_at": _DATETIME.to_representation(job.created_at),
            "updated_at": _datetime_or_none(job.updated_at),
            "finished_at": _datetime_or_none(job.finished_at),
            "expires_at": _DATETIME.to_representation(job.expires_at),
            "checked_at": self.get_checked_at(job),
            "saved_model": self.get_saved_model(job),
            "preflight_warnings": self.get_preflight_warnings(job),
        }

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_checked_at(self, job: ConversionJob) -> str | None:
        if job.checked_at is None:
            return None
        return datetime.fromtimestamp(job.checked_at, UTC).isoformat().replace("+00:00", "Z")

    def get_stage(self, job: ConversionJob) -> str | None:
        return job.stage or None

    @extend_schema_field(
        inline_serializer(
            "JobError",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "stage": serializers.CharField(allow_null=True),
                "hint": serializers.CharField(
                    allow_null=True, help_text="What to try next, for a failed job."
                ),
            },
            allow_null=True,
        )
    )
    def get_error(self, job: ConversionJob) -> dict | None:
        if not job.error_code and not job.error_message:
            return None
        return {
            "code": job.error_code,
            "message": job.error_text,
            "stage": job.error_stage or None,
            "hint": (str(failure_hint(job)) or None) if job.status == JobStatus.FAILED else None,
        }

    @extend_schema_field(PreflightWarningSerializer(many=True))
    def get_preflight_warnings(self, job: ConversionJob) -> list[dict]:
        return preflight.warnings_for_display(job.preflight_warnings)

    def get_saved_model(self, job: ConversionJob) -> dict | None:
        model = job.live_saved_model
        return {"id": model.pk, "name": model.name} if model is not None else None


class ConversionUploadSerializer(serializers.Serializer):
    """The conversion upload form (multipart/form-data)."""

    # Describes the form for the schema only: the view streams the body, never parses it.
    platform = serializers.ChoiceField(choices=[chip.platform_code for chip in Chip])
    model = serializers.FileField(help_text="The .onnx model.")
    ref_images = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=limits.MAX_IMAGES,
        help_text="JPEG or PNG reference images: repeat the field for each one.",
    )
    model_id = serializers.IntegerField(
        required=False, min_value=limits.MIN_USER_MODEL_ID, max_value=limits.MAX_MODEL_ID
    )
    version = serializers.RegexField(
        limits.VERSION_PATTERN, required=False, help_text="Four hexadecimal digits, e.g. 0001."
    )


class ActiveConversionSerializer(serializers.Serializer):
    job = JobOutputSerializer(allow_null=True)
    upload_in_progress = serializers.BooleanField(
        help_text="another upload of this user is still streaming: a new one now would be "
        "refused (409 upload_in_progress)"
    )


class PromotedModelSerializer(serializers.Serializer):
    model = ModelOutputSerializer()
