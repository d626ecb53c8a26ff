"""Deployments: one model put on one device, and the history of its states.

The tables were made when deployments lived in ``devices/`` and keep their names
(``devices_deployment``, ``devices_deploymentevent``, and the ``devices_`` names of
their indexes and constraints): the move to this app changed Django's state only
(migrations/0001_initial.py), so no row was copied and no table locked.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deployments.choices import DeploymentState
from deployments.rollout_choices import DeploymentKind, RestoredFrom
from devices.models import Device


class Deployment(models.Model):
    """One model put on one device (docs/deployments.md): its state, its progress.

    ``sha256`` and ``size_bytes`` are the model file's, copied when the deployment is
    made: they are what the device must end up with.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="deployments"
    )
    # RESTRICT: a model is not deleted under its deployments, unless both go together
    # (their owner's account is deleted). Users only ever soft-delete models.
    model = models.ForeignKey(
        "models_repo.NefModel",
        verbose_name=_("model"),
        on_delete=models.RESTRICT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=DeploymentState.choices, default=DeploymentState.PENDING
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    bytes_done = models.BigIntegerField(_("bytes done"), default=0)
    bytes_total = models.BigIntegerField(_("bytes total"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    kind = models.CharField(
        _("kind"), max_length=8, choices=DeploymentKind.choices, default=DeploymentKind.INSTALL
    )
    # The server's record of what the device had: when this one is installed, the
    # device's installed deployment just before it (what a rollback brings back).
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous installed deployment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A rollback: the deployment it undoes.
    rolls_back = models.ForeignKey(
        "self",
        verbose_name=_("rolls back"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A rollback, once installed: where the agent found the model it brought back.
    restored_from = models.CharField(
        _("restored from"), max_length=16, choices=RestoredFrom.choices, blank=True
    )
    # The rollout that made it: its reports wake that rollout (deployments/rollout_tasks.py).
    rollout = models.ForeignKey(
        "deployments.Rollout",
        verbose_name=_("rollout"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "devices_deployment"
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One unfinished deployment of a model per device: a second request
            # returns the first, even when two arrive at once.
            models.UniqueConstraint(
                fields=["device", "model"],
                condition=Q(state__in=DeploymentState.unfinished()),
                name="devices_one_unfinished_deployment",
            ),
            models.CheckConstraint(
                condition=Q(bytes_done__gte=0) & Q(size_bytes__gte=0),
                name="devices_deployment_bytes_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state__in=DeploymentState.unfinished(), finished_at__isnull=True)
                    | (~Q(state__in=DeploymentState.unfinished()) & Q(finished_at__isnull=False))
                ),
                name="devices_deployment_finished_matches_state",
            ),
        ]
        indexes = [
            models.Index(fields=["device", "state", "created_at"], name="devices_deploy_work"),
            models.Index(fields=["device", "-created_at"], name="devices_deploy_device_new"),
        ]

    def __str__(self) -> str:
        return str(self.pk)

    @property
    def is_final(self) -> bool:
        return self.state in DeploymentState.final()


class DeploymentEvent(models.Model):
    """A change of a deployment's state, when it happened (its history)."""

    deployment = models.ForeignKey(
        Deployment, verbose_name=_("deployment"), on_delete=models.CASCADE, related_name="events"
    )
    state = models.CharField(_("state"), max_length=16, choices=DeploymentState.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    bytes_done = models.BigIntegerField(_("bytes done"), default=0)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)

    class Meta:
        db_table = "devices_deploymentevent"
        verbose_name = _("deployment event")
        verbose_name_plural = _("deployment events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.deployment_id}: {self.get_state_display()}"


# Groups, pins, rollouts and runs live in modules of their own; Django finds models
# through this one.
from deployments.group_models import DeviceGroup, DevicePin, GroupPin  # noqa: E402, F401
from deployments.rollout_models import (  # noqa: E402, F401
    Rollout,
    RolloutPhase,
    RolloutTarget,
    RolloutWake,
)
from deployments.run_models import Run, RunInput  # noqa: E402, F401
