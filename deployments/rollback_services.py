"""Rollback: bring back the model a device had before its current one.

The server's record says what that was: each installed deployment keeps ``previous``,
the device's installed deployment just before it. A rollback is a deployment of kind
``rollback`` of that earlier model (its SHA-256 is what the device must end up with):
the agent restores its kept copy after checking its digest, or downloads the model
again, and takes the undone deployment's model off the device (docs/deployments.md,
"Rollback"). Rolling back a rollback brings back the model it took off.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from deployments import group_selectors, push, rollout_selectors
from deployments.choices import DeploymentState
from deployments.models import Deployment
from deployments.rollout_choices import DeploymentKind
from deployments.rollout_errors import (
    GroupEmptyConflict,
    NothingToRollBack,
    RollbackInProgress,
    RolloutInProgress,
)
from deployments.rollout_models import Rollout
from deployments.services import (
    current_installed,
    deployment_cancel_locked,
    devices_lock,
    record_event,
)
from devices import selectors as device_selectors
from devices.errors import DeviceNotFound
from devices.models import Device
from visiona.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling a device back would do: ``undo`` (its current deployment) and
    ``restore`` (the one before it), or ``error`` saying why it cannot."""

    undo: Deployment | None
    restore: Deployment | None
    error: NothingToRollBack | RollbackInProgress | None

    def steps(self) -> tuple[Deployment, Deployment]:
        """``(undo, restore)``; the reason it cannot, raised."""
        if self.error is not None:
            raise self.error
        if self.undo is None or self.restore is None:
            raise NothingToRollBack()
        return self.undo, self.restore


def rollback_plan(*, device: Device) -> RollbackPlan:
    current = current_installed(device_id=device.pk)
    if current is None:
        return RollbackPlan(
            None, None, NothingToRollBack(_("This device has no installed model to roll back."))
        )
    if Deployment.objects.filter(
        device=device, kind=DeploymentKind.ROLLBACK, state__in=DeploymentState.unfinished()
    ).exists():
        return RollbackPlan(current, None, RollbackInProgress())
    restore = current.previous
    if restore is None:
        message = _("This device had no model before %(model)s: there is nothing to go back to.")
        return RollbackPlan(
            current, None, NothingToRollBack(message % {"model": current.model.name})
        )
    return RollbackPlan(current, restore, None)


def rollback_create_locked(
    *,
    user: User | None,
    device: Device,
    undo: Deployment,
    restore: Deployment,
    rollout: Rollout | None = None,
) -> Deployment:
    """A rollback deployment for a device whose row the caller locked; pushed after commit."""
    # An unfinished install of the model to restore would be the same file twice.
    for unfinished in Deployment.objects.select_for_update().filter(
        device=device, model_id=restore.model_id, state__in=DeploymentState.unfinished()
    ):
        deployment_cancel_locked(unfinished)
    rollback = Deployment.objects.create(
        device=device,
        model_id=restore.model_id,
        created_by=user,
        kind=DeploymentKind.ROLLBACK,
        rolls_back=undo,
        sha256=restore.sha256,
        size_bytes=restore.size_bytes,
        bytes_total=restore.size_bytes,
        rollout=rollout,
    )
    record_event(rollback)
    push.push_after_commit([str(device.pk)])
    return rollback


def device_rollback(*, user: User, device_id: uuid.UUID | str) -> Deployment:
    """Roll the user's device back to the model it had before; 409 when it cannot."""
    device = device_selectors.device_get_for_user(user=user, device_id=device_id)
    with transaction.atomic():
        locked = devices_lock([str(device.pk)]).get(str(device.pk))
        if locked is None:
            raise DeviceNotFound()
        undo, restore = rollback_plan(device=locked).steps()
        rollback = rollback_create_locked(user=user, device=locked, undo=undo, restore=restore)
    logger.info(
        "device rollback",
        extra={"device_id": str(device.pk), "deployment_id": str(rollback.pk), "user_id": user.pk},
    )
    return rollback


@dataclass(frozen=True)
class GroupRollbackResult:
    device: Device
    deployment: Deployment | None  # the rollback, when one was made
    code: str = ""  # why not, when none was
    reason: str = ""


def devices_rollback(*, user: User, devices: list[Device]) -> list[GroupRollbackResult]:
    """Roll several devices back in one transaction; a device that cannot is skipped
    with its reason (the others still go back)."""
    results = []
    with transaction.atomic():
        locked = devices_lock([str(device.pk) for device in devices])
        for device in devices:
            current = locked.get(str(device.pk))
            if current is None:
                continue  # unpaired meanwhile
            try:
                undo, restore = rollback_plan(device=current).steps()
            except (NothingToRollBack, RollbackInProgress) as error:
                results.append(GroupRollbackResult(current, None, error.code, str(error.message)))
                continue
            rollback = rollback_create_locked(user=user, device=current, undo=undo, restore=restore)
            results.append(GroupRollbackResult(current, rollback))
    return results


def _group_devices_to_roll_back(*, user: User, group_id: uuid.UUID | str) -> list[Device]:
    """The devices of the user's group; refused while a rollout of it is under way, or empty."""
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    active = rollout_selectors.active_rollout_of_group(group_id=group.pk)
    if active is not None:
        raise RolloutInProgress(
            _("This group has a rollout under way: roll back the rollout instead."),
            details={"rollout_id": str(active.pk)},
        )
    devices = list(group_selectors.group_devices(group=group))
    if not devices:
        raise GroupEmptyConflict()
    return devices


def group_rollback_plans(
    *, user: User, group_id: uuid.UUID | str
) -> list[tuple[Device, RollbackPlan]]:
    """What ``group_rollback`` would do now, device by device, without doing it (the
    page that asks first): refused as it is."""
    devices = _group_devices_to_roll_back(user=user, group_id=group_id)
    return [(device, rollback_plan(device=device)) for device in devices]


def group_rollback(*, user: User, group_id: uuid.UUID | str) -> list[GroupRollbackResult]:
    """Roll back every device of the user's group (each to what it had before its
    current model). Refused while a rollout of the group is under way: roll that back."""
    devices = _group_devices_to_roll_back(user=user, group_id=group_id)
    results = devices_rollback(user=user, devices=devices)
    logger.info(
        "group rollback",
        extra={
            "group_id": str(group_id),
            "sent": sum(1 for result in results if result.deployment is not None),
            "devices": len(results),
        },
    )
    return results
