"""Runs: a model installed on a device, run on a set of inputs (docs/runs.md).

The inputs and the device's outputs are files in the models storage (``runs/<id>/``),
never rows of bytes; a row holds what a page shows: timings, figures, states.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from deployments.run_choices import ReferenceState, RunInputState, RunState
from devices.models import Device


class Run(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="runs"
    )
    model = models.ForeignKey(
        "models_repo.NefModel", verbose_name=_("model"), on_delete=models.RESTRICT, related_name="+"
    )
    sha256 = models.CharField(_("model SHA-256"), max_length=64)
    state = models.CharField(
        _("state"), max_length=16, choices=RunState.choices, default=RunState.PENDING
    )
    repeat = models.PositiveSmallIntegerField(_("repetitions"))
    channel_order = models.CharField(_("channel order"), max_length=8)
    scale = models.CharField(_("scale"), max_length=8)
    inputs_count = models.PositiveIntegerField(_("inputs"))
    inputs_bytes = models.BigIntegerField(_("inputs (bytes)"))
    inputs_done = models.PositiveIntegerField(_("inputs done"), default=0)
    runtime = models.CharField(_("runtime"), max_length=100, blank=True)
    latency = models.JSONField(_("latency"), null=True, blank=True)
    agreement = models.JSONField(_("agreement"), null=True, blank=True)
    reference_state = models.CharField(
        _("reference"), max_length=16, choices=ReferenceState.choices, default=ReferenceState.NONE
    )
    reference_error = models.CharField(_("reference error"), max_length=500, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(state__in=RunState.unfinished(), finished_at__isnull=True)
                    | (~Q(state__in=RunState.unfinished()) & Q(finished_at__isnull=False))
                ),
                name="deployments_run_finished_matches_state",
            ),
        ]
        indexes = [
            models.Index(fields=["device", "state", "created_at"], name="deployments_run_work"),
            models.Index(fields=["owner", "-created_at"], name="deployments_run_owner_new"),
            models.Index(fields=["model", "-created_at"], name="deployments_run_model_new"),
        ]

    def __str__(self) -> str:
        return str(self.pk)

    @property
    def is_final(self) -> bool:
        return self.state in RunState.final()


class RunInput(models.Model):
    """One input of a run, and what the device answered for it."""

    run = models.ForeignKey(
        Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="inputs"
    )
    index = models.PositiveIntegerField(_("index"))
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.CharField(_("stored file"), max_length=500)
    state = models.CharField(
        _("state"), max_length=16, choices=RunInputState.choices, default=RunInputState.PENDING
    )
    timings_ms = models.JSONField(_("timings (ms)"), null=True, blank=True)
    output_file = models.CharField(_("stored outputs"), max_length=500, blank=True)
    output_size_bytes = models.BigIntegerField(_("outputs (bytes)"), null=True, blank=True)
    agreement = models.JSONField(_("agreement"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("run input")
        verbose_name_plural = _("run inputs")
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="deployments_run_input_once")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index}"
