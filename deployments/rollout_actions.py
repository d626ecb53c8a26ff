"""The user's actions on a rollout: pause, resume, retry the failed devices, roll back.

Each locks the rollout's row first (as the worker's advance does), decides on what it
then reads, and wakes the worker after the commit; none waits for a device.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deployments import push, rollout_wakes
from deployments.choices import DeploymentState
from deployments.models import Deployment
from deployments.rollback_services import rollback_create_locked, rollback_plan
from deployments.rollout_choices import PhaseState, RollbackState, RolloutState, TargetState
from deployments.rollout_errors import (
    NothingToRetry,
    NothingToRollBack,
    RollbackInProgress,
    RolloutStateConflict,
)
from deployments.rollout_models import Rollout, RolloutTarget
from deployments.rollout_services import locked_rollout
from deployments.services import (
    Outcome,
    deployment_cancel_locked,
    deployment_create_locked,
    devices_lock,
)
from visiona.models import User

logger = logging.getLogger(__name__)

T = TargetState


def _conflict(rollout: Rollout, message: str) -> RolloutStateConflict:
    """``message`` names the state as ``%(state)s``."""
    text = message % {"state": rollout.get_state_display()}
    return RolloutStateConflict(text, details={"state": rollout.state})


def _done(rollout: Rollout, action: str) -> Rollout:
    rollout_wakes.wake_after_commit(rollout.pk)
    logger.info(f"rollout {action}", extra={"rollout_id": str(rollout.pk)})
    return rollout


@transaction.atomic
def rollout_pause(*, user: User, rollout_id: uuid.UUID | str) -> Rollout:
    """No further phase starts; what the current one sent goes on."""
    rollout = locked_rollout(user=user, rollout_id=rollout_id)
    if rollout.state != RolloutState.RUNNING:
        raise _conflict(rollout, _("Only a running rollout can be paused; this one is: %(state)s."))
    rollout.state, rollout.pause_code, rollout.pause_details = RolloutState.PAUSED, "by_user", {}
    rollout.save(update_fields=["state", "pause_code", "pause_details", "updated_at"])
    return _done(rollout, "paused")


@transaction.atomic
def rollout_resume(*, user: User, rollout_id: uuid.UUID | str) -> Rollout:
    """Go on: a phase that failed is accepted as it is, and the next one starts."""
    rollout = locked_rollout(user=user, rollout_id=rollout_id)
    if rollout.state != RolloutState.PAUSED:
        raise _conflict(rollout, _("Only a paused rollout can be resumed; this one is: %(state)s."))
    rollout.phases.filter(state=PhaseState.FAILED).update(state=PhaseState.ACCEPTED)
    rollout.state, rollout.pause_code, rollout.pause_details = RolloutState.RUNNING, "", {}
    rollout.save(update_fields=["state", "pause_code", "pause_details", "updated_at"])
    return _done(rollout, "resumed")


@transaction.atomic
def rollout_retry(*, user: User, rollout_id: uuid.UUID | str) -> Rollout:
    """Send the model again to the devices that failed; their phases wait for them
    again (with a new deadline), and a rollout paused by that phase runs again."""
    rollout = locked_rollout(user=user, rollout_id=rollout_id)
    if rollout.state not in (RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.COMPLETED):
        raise _conflict(
            rollout,
            _("A rollout that is rolled back (or rolling back) sends nothing again: %(state)s."),
        )
    failed = list(
        rollout.targets.filter(state=T.FAILED).select_related("device", "phase").order_by("pk")
    )
    if not failed:
        raise NothingToRetry()
    locked = devices_lock([str(target.device_id) for target in failed])
    now, created = timezone.now(), []
    for target in failed:
        device = locked.get(str(target.device_id))
        if device is None:
            target.state, target.reason_code, target.reason = T.SKIPPED, "unpaired", ""
            continue
        result = deployment_create_locked(
            user=user, model=rollout.model, device=device, rollout=rollout
        )
        target.deployment = result.deployment
        target.smoke_run = None  # a new smoke run, if the rollout has one
        installed = result.outcome == Outcome.ALREADY_INSTALLED
        target.state = T.CHECKING if installed else T.DEPLOYING
        target.reason_code, target.reason = ("already_installed" if installed else ""), ""
        if result.outcome == Outcome.CREATED:
            created.append(str(device.pk))
        target.updated_at = now
    RolloutTarget.objects.bulk_update(
        failed, ["state", "reason_code", "reason", "deployment", "smoke_run", "updated_at"]
    )
    deadline = now + timedelta(seconds=rollout.wait_seconds)
    phase_ids = {target.phase_id for target in failed if target.phase_id}
    rollout.phases.filter(pk__in=phase_ids).update(deadline_at=deadline)
    rollout.phases.filter(pk__in=phase_ids, state=PhaseState.FAILED).update(
        state=PhaseState.RUNNING, finished_at=None
    )
    if rollout.state == RolloutState.PAUSED and rollout.pause_code != "by_user":
        rollout.state, rollout.pause_code, rollout.pause_details = RolloutState.RUNNING, "", {}
    rollout.save(update_fields=["state", "pause_code", "pause_details", "updated_at"])
    push.push_after_commit(created)
    return _done(rollout, "retried")


@transaction.atomic
def rollout_rollback(*, user: User, rollout_id: uuid.UUID | str) -> Rollout:
    """Stop the rollout and bring back, on each device it installed the model on, the
    model that device had before; what it had not yet installed is cancelled."""
    rollout = locked_rollout(user=user, rollout_id=rollout_id)
    if rollout.state in (RolloutState.ROLLING_BACK, RolloutState.ROLLED_BACK):
        raise _conflict(
            rollout, _("This rollout is already rolled back (or rolling back): %(state)s.")
        )
    targets = list(rollout.targets.select_related("deployment", "device").order_by("pk"))
    locked = devices_lock([str(target.device_id) for target in targets])
    unfinished = {
        deployment.pk: deployment
        for deployment in Deployment.objects.select_for_update().filter(
            pk__in=[t.deployment_id for t in targets if t.deployment_id],
            state__in=DeploymentState.unfinished(),
        )
    }
    sent = 0
    for target in targets:
        sent += _roll_back_target(rollout, target, user, locked, unfinished)
    RolloutTarget.objects.bulk_update(
        targets, ["state", "rollback_state", "rollback", "rollback_code", "updated_at"]
    )
    rollout.phases.filter(state=PhaseState.WAITING).update(state=PhaseState.CANCELLED)
    rollout.state = RolloutState.ROLLING_BACK if sent else RolloutState.ROLLED_BACK
    rollout.finished_at = None if sent else timezone.now()
    rollout.pause_code, rollout.pause_details = "", {}
    rollout.save()
    return _done(rollout, "rolled back")


def _roll_back_target(rollout, target, user, locked, unfinished) -> int:
    """One device of a rollout being rolled back; 1 when a rollback was sent to it."""
    target.updated_at = timezone.now()
    deployment, device = target.deployment, locked.get(str(target.device_id))
    if target.state == T.SKIPPED:
        return 0
    if target.state == T.PLANNED or deployment is None or device is None:
        target.state = T.CANCELLED if target.state == T.PLANNED else target.state
        return _skip(target, "not_started")
    if deployment.pk in unfinished:
        deployment_cancel_locked(unfinished[deployment.pk])
        target.state = T.CANCELLED
        return _skip(target, "cancelled")
    if deployment.state != DeploymentState.INSTALLED:
        return _skip(target, "not_installed")
    if deployment.rollout_id != rollout.pk:
        return _skip(target, "installed_before")
    plan = rollback_plan(device=device)
    if plan.undo is None or plan.undo.pk != deployment.pk:
        return _skip(target, "replaced_since")
    try:
        _undo, restore = plan.steps()
    except (NothingToRollBack, RollbackInProgress) as error:
        return _skip(target, error.code)
    target.rollback = rollback_create_locked(
        user=user, device=device, undo=deployment, restore=restore, rollout=rollout
    )
    target.rollback_state, target.rollback_code = RollbackState.SENT, ""
    return 1


def _skip(target: RolloutTarget, code: str) -> int:
    target.rollback_state, target.rollback_code = RollbackState.SKIPPED, code
    return 0
