"""Rollouts: one saved model to a group's devices in phases (docs/deployments.md, "Rollouts").

The rows are the whole truth: the web instances and the background worker read and
change a rollout only under its row lock (``SELECT ... FOR UPDATE``), so whichever of
them acts, they agree on its state.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from deployments.group_models import DeviceGroup
from deployments.rollout_choices import PhaseState, RollbackState, RolloutState, TargetState
from devices.models import Device

DEFAULT_PHASES = ("1", "20%", "rest")
DEFAULT_MAX_FAILURE_PERCENT = 10
DEFAULT_WAIT_SECONDS = 30 * 60
REASON_MAX_CHARS = 500
SMOKE_EXPECT_MAX_CHARS = 200


class Rollout(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The group may be deleted later; the rollout keeps its name and its devices.
    group = models.ForeignKey(
        DeviceGroup,
        verbose_name=_("group"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rollouts",
    )
    group_name = models.CharField(_("group name"), max_length=100)
    model = models.ForeignKey(
        "models_repo.NefModel",
        verbose_name=_("model"),
        on_delete=models.RESTRICT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=RolloutState.choices, default=RolloutState.RUNNING
    )
    max_failure_percent = models.PositiveSmallIntegerField(
        _("allowed failures (%)"), default=DEFAULT_MAX_FAILURE_PERCENT
    )
    wait_seconds = models.PositiveIntegerField(
        _("wait for offline devices (seconds)"), default=DEFAULT_WAIT_SECONDS
    )
    # Why it is paused: a code, and the figures the sentence shown for it needs
    # (deployments/rollout_texts.py writes it in the reader's language).
    pause_code = models.CharField(_("pause code"), max_length=32, blank=True)
    pause_details = models.JSONField(_("pause details"), default=dict, blank=True)
    # The health gate's smoke run (deployments/rollout_smoke.py): each device runs the
    # model on this earlier run's inputs, with its options; with ``smoke_min_cosine``
    # the run's agreement with the model's original ONNX must reach it.
    smoke_run = models.ForeignKey(
        "deployments.Run",
        verbose_name=_("smoke run's inputs"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set with smoke_run and never cleared: the gate stays when that run is deleted (its
    # SET_NULL would otherwise read as "no gate" and pass every device unchecked).
    smoke_gate = models.BooleanField(_("smoke gate"), default=False)
    smoke_min_cosine = models.FloatField(_("smoke run's least cosine"), null=True, blank=True)
    # What each smoke run must reach, as runs' expectations ("cosine>=0.99,top1>=0.98",
    # visiona_client.run_figures), written back in one form; empty: only that it completed
    # (and the least cosine, the older form of "cosine>=X").
    smoke_expect = models.CharField(
        _("smoke run's expectations"), max_length=SMOKE_EXPECT_MAX_CHARS, blank=True
    )
    # When a task is already set to look at it again (a deadline, a check waiting).
    next_look_at = models.DateTimeField(_("next look"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollout")
        verbose_name_plural = _("rollouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One rollout of a group at a time, even for two requests at once.
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(state__in=RolloutState.active()),
                name="deployments_one_active_rollout_per_group",
            ),
            models.CheckConstraint(
                condition=Q(max_failure_percent__lte=100),
                name="deployments_rollout_failure_percent",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="deployments_rollout_owner")]

    # Set by deployments/rollout_selectors.py for one rollout's page: each device with its
    # phase, deployment and rollback.
    device_rows: list[RolloutTarget]

    def __str__(self) -> str:
        return str(self.pk)

    @property
    def is_active(self) -> bool:
        return self.state in RolloutState.active()


class RolloutPhase(models.Model):
    rollout = models.ForeignKey(
        Rollout, verbose_name=_("rollout"), on_delete=models.CASCADE, related_name="phases"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    # As asked: "3" devices, "20%" of the eligible ones, or "rest".
    size = models.CharField(_("size"), max_length=8)
    state = models.CharField(
        _("state"), max_length=16, choices=PhaseState.choices, default=PhaseState.WAITING
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Devices that have not taken the model by then stop holding the phase up.
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollout phase")
        verbose_name_plural = _("rollout phases")
        ordering = ["rollout", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["rollout", "number"], name="deployments_rollout_phase_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rollout_id} #{self.number}"


class RolloutTarget(models.Model):
    """One device of the rollout's group: its phase, its deployment, its state."""

    rollout = models.ForeignKey(
        Rollout, verbose_name=_("rollout"), on_delete=models.CASCADE, related_name="targets"
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="+"
    )
    # None for a device left out (skipped) from the start.
    phase = models.ForeignKey(
        RolloutPhase,
        verbose_name=_("phase"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=TargetState.choices, default=TargetState.PLANNED
    )
    # Why it was skipped or failed: a code, and what the sentence for it needs that the
    # rows do not hold (the agent's own message, a pin's reason).
    reason_code = models.CharField(_("reason code"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=REASON_MAX_CHARS, blank=True)
    deployment = models.ForeignKey(
        "deployments.Deployment",
        verbose_name=_("deployment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # When its device was last nudged again about its deployment (rollout_engine.py).
    nudged_at = models.DateTimeField(_("nudged again"), null=True, blank=True)
    # The smoke run on this device, once its install passed the other checks.
    smoke_run = models.ForeignKey(
        "deployments.Run",
        verbose_name=_("smoke run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rollback_state = models.CharField(
        _("rollback"), max_length=8, choices=RollbackState.choices, blank=True
    )
    rollback = models.ForeignKey(
        "deployments.Deployment",
        verbose_name=_("rollback deployment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why no rollback was sent to it (deployments/rollout_texts.py).
    rollback_code = models.CharField(_("rollback code"), max_length=32, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rollout device")
        verbose_name_plural = _("rollout devices")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rollout", "device"], name="deployments_rollout_target_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rollout_id}: {self.device_id}"


class RolloutWake(models.Model):
    """Whether a task to advance the rollout is already waiting for the worker.

    Set by the reports of the rollout's deployments (after they commit), cleared by the
    task before it locks the rollout: a burst of reports enqueues one task, not one each.
    A row of its own, not a column of the rollout: setting it must not wait for the
    rollout's row lock, which the task holds while it works.
    """

    rollout = models.OneToOneField(
        Rollout,
        verbose_name=_("rollout"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    requested = models.BooleanField(_("requested"), default=False)

    class Meta:
        verbose_name = _("rollout wake")
        verbose_name_plural = _("rollout wakes")

    def __str__(self) -> str:
        return str(self.rollout_id)
