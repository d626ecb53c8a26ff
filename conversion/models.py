from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from conversion.choices import UNFINISHED_STATUSES, JobStage, JobStatus
from conversion.errors import JobLost
from visiona.chips import Chip

# The uploaded file's name as the user sent it, cut to this (its extension kept).
FILENAME_MAX_LENGTH = 255


class ConversionJob(models.Model):
    """Who owns a converter job, and the last state we saw of it.

    The converter forgets jobs after 7 days and does no access control, so
    ownership and history live here. Polls refresh the snapshot at most once per
    interval per job (``conversion.refresh_policy``), and only a change is written.
    """

    job_id = models.CharField(_("converter job id"), max_length=64, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="conversion_jobs",
    )
    chip = models.CharField(_("chip"), max_length=8, choices=Chip.choices)
    filename = models.CharField(_("model file"), max_length=FILENAME_MAX_LENGTH, blank=True)
    model_id = models.PositiveIntegerField(_("model id"), null=True, blank=True)
    version = models.CharField(_("version"), max_length=32, blank=True)

    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices)
    stage = models.CharField(_("stage"), max_length=8, choices=JobStage.choices, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress"), null=True, blank=True)
    stage_progress = models.PositiveSmallIntegerField(_("stage progress"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    error_stage = models.CharField(_("failed stage"), max_length=8, blank=True)

    # The ONNX pre-flight's warnings at upload (operators on the CPU, dynamic shapes…):
    # [{"code", "message" (English), "details"}], worded per language when shown.
    preflight_warnings = models.JSONField(_("pre-flight warnings"), default=list, blank=True)
    # The converter's time per stage ({"onnx": seconds, ...}) and, while queued, the job's
    # place in its queue, where the converter gives them.
    stage_timings = models.JSONField(_("stage timings"), null=True, blank=True)
    queue_position = models.PositiveIntegerField(_("queue position"), null=True, blank=True)
    # The converter's ETag for the snapshot above: the next lookup asks If-None-Match.
    upstream_etag = models.CharField(_("converter ETag"), max_length=128, blank=True)

    # Set once the NEF has been promoted into FAA (by a download or a save).
    faa_object_key = models.CharField(_("FAA object key"), max_length=512, blank=True)
    # The model in My models this job was saved as: conversion owns the link, the
    # repository only knows the model came from a conversion. One job, one model.
    saved_model = models.OneToOneField(
        "models_repo.NefModel",
        verbose_name=_("saved as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    created_at = models.DateTimeField(_("started"))
    updated_at = models.DateTimeField(_("updated upstream"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    refreshed_at = models.DateTimeField(_("last refreshed"), auto_now=True)

    # Not stored: when the converter was last asked about this job (a Unix time), as
    # ``job_refresh`` learnt it for this answer; the API shows it, None when unknown.
    checked_at: float | None = None

    class Meta:
        verbose_name = _("conversion job")
        verbose_name_plural = _("conversion jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="conversion_owner_created"),
            models.Index(
                fields=["owner"],
                condition=models.Q(status__in=UNFINISHED_STATUSES),
                name="conversion_owner_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_STATUSES

    @property
    def live_saved_model(self):
        """The model this job was saved as, unless it has been deleted since."""
        model = self.saved_model  # None when never saved
        return model if model is not None and model.is_live else None

    @property
    def error_text(self) -> str:
        """The error message to show: ours translated, or the converter's as it came."""
        if self.error_code == JobLost.code:
            return str(JobLost.message)
        return self.error_message

    @property
    def platform_code(self) -> str:
        # Blank when the converter reported a platform this version doesn't know.
        return Chip(self.chip).platform_code if self.chip in Chip.values else ""
