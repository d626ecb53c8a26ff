"""Writes about deployments: create (one model, several devices), cancel, the agent's reports.

Every write is one transaction that locks the rows it decides on, so two reports of
one deployment, or a report racing a cancel, are applied one after the other: the
second sees what the first wrote (docs/deployments.md, "Concurrency"). The push to
the devices is sent after the commit, never inside it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deployments import push, rollout_wakes
from deployments.choices import DeploymentState
from deployments.errors import (
    DeploymentCancelled,
    DeploymentChipMismatch,
    DeploymentFinished,
    DeploymentInvalidTransition,
    DeploymentNotFound,
)
from deployments.models import Deployment, DeploymentEvent
from deployments.rollout_choices import DeploymentKind, RestoredFrom
from devices import selectors
from devices.errors import DeviceNotFound
from devices.models import Device
from models_repo import selectors as model_selectors
from visiona.errors import NotFound, ValidationFailed
from visiona.models import User

if TYPE_CHECKING:
    from deployments.rollout_models import Rollout
    from models_repo.models import NefModel

logger = logging.getLogger(__name__)

S = DeploymentState
# What an agent may report after each state. The same state again is a progress
# report (downloading) or a repeat; ``downloading`` after ``verifying`` is a resume
# after the agent restarted. Final states take no report but themselves (idempotent).
ALLOWED_REPORTS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.DOWNLOADING, S.FAILED}),
    S.DOWNLOADING: frozenset({S.DOWNLOADING, S.VERIFYING, S.FAILED}),
    S.VERIFYING: frozenset({S.DOWNLOADING, S.VERIFYING, S.INSTALLED, S.FAILED}),
}
REPORTABLE = [S.DOWNLOADING.value, S.VERIFYING.value, S.INSTALLED.value, S.FAILED.value]


class Outcome:
    CREATED = "created"
    ALREADY_INSTALLED = "already_installed"
    ALREADY_IN_PROGRESS = "already_in_progress"


@dataclass(frozen=True)
class DeploymentResult:
    device: Device
    outcome: str
    deployment: Deployment


def deployments_create(
    *, user: User, model_id: int, device_ids: Sequence[uuid.UUID | str]
) -> list[DeploymentResult]:
    """Deploy the user's model to several of their devices: one deployment per device.

    Refused whole (nothing created) when a device is unknown (404) or its chip is
    not among the model's (400 ``chip_mismatch``).
    """
    model = model_selectors.model_get_for_user(user=user, model_id=model_id)
    wanted = list(dict.fromkeys(str(device_id) for device_id in device_ids))
    devices = _devices_or_not_found(user=user, device_ids=wanted)
    _refuse_chip_mismatch(model=model, devices=[devices[device_id] for device_id in wanted])
    try:
        with transaction.atomic():
            results = _create_locked(user=user, model=model, device_ids=wanted)
    except IntegrityError:
        # Only the one-unfinished rule can break: a create we could not see (SQLite,
        # which has no row locks) won. Its deployment is now there to return.
        with transaction.atomic():
            results = _create_locked(user=user, model=model, device_ids=wanted)
    created = [result for result in results if result.outcome == Outcome.CREATED]
    if created:
        push.push_after_commit([str(result.device.pk) for result in created])
    logger.info(
        "deployments created",
        extra={
            "user_id": user.pk,
            "model_id": model.pk,
            "deployments_created": len(created),
            "devices": len(results),
        },
    )
    return results


def _devices_or_not_found(*, user: User, device_ids: list[str]) -> dict[str, Device]:
    try:
        found = selectors.device_list_for_user(user=user).in_bulk(device_ids)
    except Exception:  # a malformed id (ValidationError) is as unknown as another user's
        raise DeviceNotFound() from None
    devices = {str(pk): device for pk, device in found.items()}
    if len(devices) != len(device_ids):
        raise DeviceNotFound()
    return devices


def _refuse_chip_mismatch(*, model, devices: list[Device]) -> None:
    chips = model.chips
    wrong = [device for device in devices if device.chip not in chips]
    if wrong:
        raise DeploymentChipMismatch(
            details={
                "devices": [
                    {"id": str(device.pk), "name": device.name, "chip": device.chip}
                    for device in wrong
                ],
                "model_chips": chips,
            }
        )


def _create_locked(*, user: User, model, device_ids: list[str]) -> list[DeploymentResult]:
    locked = devices_lock(device_ids)
    if len(locked) != len(device_ids):
        raise DeviceNotFound()
    return [
        deployment_create_locked(user=user, model=model, device=locked[device_id])
        for device_id in device_ids
    ]


def devices_lock(device_ids: Sequence[str]) -> dict[str, Device]:
    """Lock these live devices' rows, in one order (primary key), so two writers over
    overlapping devices cannot deadlock; an unpaired one is left out. In a transaction."""
    return {
        str(device.pk): device
        for device in Device.objects.live()
        .select_for_update()
        .filter(pk__in=list(device_ids))
        .order_by("pk")
    }


def current_installed(*, device_id: uuid.UUID | str) -> Deployment | None:
    """The server's record of what the device has: its latest installed deployment."""
    return (
        Deployment.objects.filter(device_id=device_id, state=S.INSTALLED)
        .order_by("-finished_at", "-created_at")
        .first()
    )


def deployment_create_locked(
    *, user: User, model: NefModel, device: Device, rollout: Rollout | None = None
) -> DeploymentResult:
    """One install of ``model`` on a device whose row the caller locked (devices_lock):
    the unfinished one of that model, the installed one with its SHA-256, or a new one."""
    unfinished = Deployment.objects.filter(
        device=device, model=model, state__in=S.unfinished()
    ).first()
    if unfinished is not None:
        if rollout is not None and unfinished.rollout_id is None:
            unfinished.rollout = rollout  # its reports now wake the rollout too
            unfinished.save(update_fields=["rollout", "updated_at"])
        return DeploymentResult(device, Outcome.ALREADY_IN_PROGRESS, unfinished)
    last_installed = current_installed(device_id=device.pk)
    if last_installed is not None and last_installed.sha256 == model.sha256:
        return DeploymentResult(device, Outcome.ALREADY_INSTALLED, last_installed)
    deployment = Deployment.objects.create(
        device=device,
        model=model,
        created_by=user,
        sha256=model.sha256,
        size_bytes=model.size_bytes,
        bytes_total=model.size_bytes,
        rollout=rollout,
    )
    record_event(deployment)
    return DeploymentResult(device, Outcome.CREATED, deployment)


def deployment_cancel(*, user: User, deployment_id: uuid.UUID | str) -> Deployment:
    """Cancel the user's unfinished deployment; a finished one is 409 ``deployment_finished``."""
    with transaction.atomic():
        deployment = _locked(Deployment.objects.filter(device__owner=user), deployment_id)
        if deployment is None:
            raise DeploymentNotFound()
        if deployment.is_final:
            raise DeploymentFinished()
        deployment_cancel_locked(deployment)
    logger.info("deployment cancelled", extra={"deployment_id": str(deployment.pk)})
    return deployment


def deployment_cancel_locked(deployment: Deployment) -> None:
    """Cancel an unfinished deployment whose row the caller locked; the device is told
    and its rollout woken after the commit."""
    _finish(deployment, S.CANCELLED)
    push.push_after_commit([str(deployment.device_id)])
    if deployment.rollout_id:
        rollout_wakes.wake_after_commit(deployment.rollout_id)


def deployment_report(
    *,
    device: Device,
    deployment_id: uuid.UUID | str,
    state: str,
    bytes_done: int | None = None,
    bytes_total: int | None = None,
    error_code: str = "",
    error_message: str = "",
    restored_from: str = "",
) -> Deployment:
    """The agent's report of where a deployment to its own device is.

    Another device's deployment is 404 ``not_found``; see ALLOWED_REPORTS for the rest.
    ``restored_from``: with ``installed`` of a rollback, where the model came from.
    """
    with transaction.atomic():
        deployment = _locked(Deployment.objects.filter(device=device), deployment_id)
        if deployment is None:
            raise NotFound()
        if not _check_report(deployment, state):
            return deployment  # the same final state again
        if state == S.DOWNLOADING:
            _progress(deployment, bytes_done=bytes_done, bytes_total=bytes_total)
        elif state in S.final():
            _finish(
                deployment,
                state,
                error_code=error_code,
                error_message=error_message,
                restored_from=restored_from,
            )
            if deployment.rollout_id:
                rollout_wakes.wake_after_commit(deployment.rollout_id)
        else:
            _move(deployment, state, bytes_done=deployment.size_bytes)
    logger.info(
        "deployment report",
        extra={
            "deployment_id": str(deployment.pk),
            "device_id": str(device.pk),
            "state": state,
            "error_code": error_code,
        },
    )
    return deployment


def _locked(queryset, deployment_id) -> Deployment | None:
    try:
        return queryset.select_for_update(of=("self",)).filter(pk=deployment_id).first()
    except Exception:  # a malformed id
        return None


def _check_report(deployment: Deployment, state: str) -> bool:
    """Whether to apply ``state``; False for a repeated final state. Raises the 409s."""
    if deployment.state == S.CANCELLED:
        raise DeploymentCancelled()
    if deployment.is_final:
        if state == deployment.state:
            return False
        raise DeploymentFinished()
    if state not in ALLOWED_REPORTS[deployment.state]:
        raise DeploymentInvalidTransition(
            details={
                "from": deployment.state,
                "to": state,
                "allowed": sorted(ALLOWED_REPORTS[deployment.state]),
            }
        )
    return True


def _progress(deployment: Deployment, *, bytes_done: int | None, bytes_total: int | None) -> None:
    total = bytes_total if bytes_total is not None else deployment.size_bytes
    done = bytes_done if bytes_done is not None else 0
    if done > total:
        raise ValidationFailed.for_fields(
            [{"field": "bytes_done", "message": _("This is more than bytes_total.")}]
        )
    changed = deployment.state != S.DOWNLOADING
    deployment.state = S.DOWNLOADING
    deployment.bytes_done, deployment.bytes_total = done, total
    deployment.save(update_fields=["state", "bytes_done", "bytes_total", "updated_at"])
    if changed:
        record_event(deployment)


def _move(deployment: Deployment, state: str, *, bytes_done: int) -> None:
    changed = deployment.state != state
    deployment.state = state
    deployment.bytes_done = bytes_done
    deployment.save(update_fields=["state", "bytes_done", "updated_at"])
    if changed:
        record_event(deployment)


def _finish(
    deployment: Deployment,
    state: str,
    *,
    error_code: str = "",
    error_message: str = "",
    restored_from: str = "",
) -> None:
    deployment.state = state
    deployment.finished_at = timezone.now()
    fields = ["state", "finished_at", "bytes_done", "error_code", "error_message", "updated_at"]
    if state == S.INSTALLED:
        deployment.bytes_done = deployment.size_bytes
        # What the device had just before: what a rollback of this one brings back.
        deployment.previous = current_installed(device_id=deployment.device_id)
        fields.append("previous")
        if deployment.kind == DeploymentKind.ROLLBACK and restored_from in RestoredFrom.values:
            deployment.restored_from = restored_from
            fields.append("restored_from")
    deployment.error_code = error_code if state == S.FAILED else ""
    deployment.error_message = error_message[:500] if state == S.FAILED else ""
    deployment.save(update_fields=fields)
    record_event(deployment)


def record_event(deployment: Deployment) -> DeploymentEvent:
    return DeploymentEvent.objects.create(
        deployment=deployment,
        state=deployment.state,
        at=timezone.now(),
        bytes_done=deployment.bytes_done,
        error_code=deployment.error_code,
        error_message=deployment.error_message,
    )


def deployments_cancel_for_device(*, device: Device) -> int:
    """Cancel a device's unfinished deployments (it is being unpaired). No push: its
    tunnel is closing. Call inside the unpair's transaction."""
    unfinished = list(
        Deployment.objects.select_for_update().filter(device=device, state__in=S.unfinished())
    )
    for deployment in unfinished:
        _finish(deployment, S.CANCELLED)
        if deployment.rollout_id:
            rollout_wakes.wake_after_commit(deployment.rollout_id)
    return len(unfinished)
