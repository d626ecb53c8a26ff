"""Advancing a rollout: what the background worker does when it is woken.

``advance`` runs in the worker (``rollout_tasks.rollout_advance``), woken by the reports
of the rollout's deployments and by the times it asked to be woken (a phase's deadline,
a check waiting). Under the rollout's row lock it:

1. brings each device's state up to date from its deployment and the phase checks
   (``rollout_checks``): installed and checked -> passed; failed or cancelled -> failed;
   not taken at the phase's deadline (or under way and no longer connected) -> offline
   (it gets the model when it asks; the phase no longer waits for it); a device that
   has not taken its deployment for a minute is nudged again (a push is best effort);
2. while running, judges the current phase: more failures than the allowed share
   pauses the rollout (``phase_failed``); every device done with at least one passed
   passes it and starts the next (its deployments made and pushed after the commit);
   none left completes the rollout;
3. rolling back: once every rollback sent has finished, the rollout is rolled back;
4. asks to be woken again when time alone will change something, and, while it is
   running, at least once a minute when nothing else is due.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from deployments import group_selectors, push, rollout_checks, rollout_wakes
from deployments.choices import DeploymentState
from deployments.rollout_choices import PhaseState, RollbackState, RolloutState, TargetState
from deployments.rollout_models import Rollout, RolloutPhase, RolloutTarget
from deployments.rollout_services import skip_reason
from deployments.services import Outcome, deployment_create_locked, devices_lock

logger = logging.getLogger(__name__)

T = TargetState
TARGET_FIELDS = ["state", "reason_code", "reason", "deployment", "nudged_at", "updated_at"]
# A device that has not taken its deployment this long after it was made (or nudged) is
# nudged again: the first push may have been lost, and its heartbeats may be rare.
NUDGE_AGAIN = timedelta(seconds=60)


def advance(*, rollout_id: uuid.UUID | str, now: datetime | None = None) -> Rollout | None:
    now = now or timezone.now()
    rollout_wakes.taken(rollout_id)  # before reading: a report from now on wakes us again
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",))
            .select_related("model", "owner")
            .filter(pk=rollout_id)
            .first()
        )
        if rollout is None:
            return None
        before = rollout.state
        refresh_targets(rollout, now=now)
        if rollout.state == RolloutState.RUNNING:
            _run_phases(rollout, now=now)
        elif rollout.state == RolloutState.ROLLING_BACK:
            _finish_rollback(rollout, now=now)
        _schedule_next_look(rollout, now=now)
        rollout.save()
    if rollout.state != before:
        logger.info(
            "rollout advanced",
            extra={"rollout_id": str(rollout.pk), "from": before, "to": rollout.state},
        )
    return rollout


def _set(target: RolloutTarget, state: str, code: str = "", reason: str = "") -> None:
    target.state, target.reason_code, target.reason = state, code, reason[:500]


def _past_deadline(target: RolloutTarget, now: datetime) -> bool:
    phase = target.phase
    deadline = phase.deadline_at if phase is not None else None
    return deadline is not None and now >= deadline


def refresh_targets(rollout: Rollout, *, now: datetime) -> None:
    """Each open device's state from its deployment, the checks and the deadline."""
    targets = list(
        RolloutTarget.objects.filter(rollout=rollout, state__in=T.open()).select_related(
            "deployment", "device", "phase", "smoke_run"
        )
    )
    if not targets:
        return
    for target in targets:
        target.rollout = rollout  # the checks read it: the locked row, not one query each
    late = [
        target
        for target in targets
        if target.state == T.DEPLOYING
        and target.deployment is not None
        and target.deployment.state in DeploymentState.unfinished()
        and _past_deadline(target, now)
    ]
    # Under way (downloading, verifying) and still connected: waited for. Not taken yet:
    # offline, or connected without answering; either way no longer waited for.
    under_way = [
        t
        for t in late
        if t.deployment is not None and t.deployment.state != DeploymentState.PENDING
    ]
    online = (
        rollout_checks.connected_ids([t.device for t in under_way], now=now) if under_way else set()
    )
    _nudge_again(targets, now=now)
    installed = []
    for target in targets:
        deployment = target.deployment
        if deployment is None:
            _set(target, T.FAILED, "deployment_gone")
        elif deployment.state == DeploymentState.INSTALLED:
            installed.append(target)
        elif deployment.state == DeploymentState.FAILED:
            _set(target, T.FAILED, deployment.error_code or "failed", deployment.error_message)
        elif deployment.state == DeploymentState.CANCELLED:
            _set(target, T.FAILED, "cancelled")
        elif target in late and str(target.device_id) not in online:
            _set(target, T.OFFLINE, "offline")
    _judge_installed(installed, now=now)
    for target in targets:
        target.updated_at = now
    RolloutTarget.objects.bulk_update(targets, TARGET_FIELDS)


def _nudge_again(targets: list[RolloutTarget], *, now: datetime) -> None:
    stale = [
        target
        for target in targets
        if target.state == T.DEPLOYING
        and target.deployment is not None
        and target.deployment.state == DeploymentState.PENDING
        and (target.nudged_at or target.deployment.created_at) <= now - NUDGE_AGAIN
    ]
    for target in stale:
        target.nudged_at = now
    if stale:
        push.push_after_commit([str(target.device_id) for target in stale])


def _judge_installed(targets: list[RolloutTarget], *, now: datetime) -> None:
    verdicts = rollout_checks.run_checks(targets=targets, now=now)
    for target in targets:
        verdict = verdicts[target.pk]
        if verdict.state == rollout_checks.PASSED:
            keep = target.reason_code == "already_installed"
            _set(target, T.PASSED, "already_installed" if keep else "")
        elif verdict.state == rollout_checks.FAILED or _past_deadline(target, now):
            _set(target, T.FAILED, verdict.code or "check_failed", verdict.reason)
        else:
            _set(target, T.CHECKING, verdict.code, verdict.reason)


def _run_phases(rollout: Rollout, *, now: datetime) -> None:
    """Start and judge phases until one has to wait, or complete the rollout.

    Each step either stops (a phase waits, or the rollout pauses or completes), starts
    a waiting phase or passes the running one; each phase is started once and passed
    once, so ``2 * phases + 1`` steps always reach a stop. A phase whose devices all
    had the model already passes in the look that starts it (two steps): with fewer
    steps the look ended with a phase passed and the next not started, or the last not
    judged, and with nothing under way nothing would have woken the rollout again.
    """
    phases = list(rollout.phases.order_by("number"))
    for _step in range(2 * len(phases) + 1):
        running = next((phase for phase in phases if phase.state == PhaseState.RUNNING), None)
        if running is None:
            waiting = next((phase for phase in phases if phase.state == PhaseState.WAITING), None)
            if waiting is None:
                rollout.state, rollout.finished_at = RolloutState.COMPLETED, now
                return
            _start_phase(rollout, waiting, now=now)
            refresh_targets(rollout, now=now)  # devices that already had the model
            continue
        if not _judge_phase(rollout, running, now=now):
            return
    logger.error("rollout phases did not settle", extra={"rollout_id": str(rollout.pk)})


def _start_phase(rollout: Rollout, phase: RolloutPhase, *, now: datetime) -> None:
    targets = list(phase.targets.filter(state=T.PLANNED).select_related("device"))
    locked = devices_lock([str(target.device_id) for target in targets])
    pins = group_selectors.rollout_pins(devices=[target.device for target in targets])
    created = []
    for target in targets:
        device = locked.get(str(target.device_id))
        if device is None:
            _set(target, T.SKIPPED, "unpaired")
            continue
        why = skip_reason(model=rollout.model, device=device, pin=pins.get(str(device.pk)))
        if why is not None:  # pinned since the rollout was planned
            _set(target, T.SKIPPED, *why)
            continue
        result = deployment_create_locked(
            user=rollout.owner, model=rollout.model, device=device, rollout=rollout
        )
        target.deployment = result.deployment
        if result.outcome == Outcome.ALREADY_INSTALLED:
            _set(target, T.CHECKING, "already_installed")
        else:
            _set(target, T.DEPLOYING)
        if result.outcome == Outcome.CREATED:
            created.append(str(device.pk))
    for target in targets:
        target.updated_at = now
    RolloutTarget.objects.bulk_update(targets, TARGET_FIELDS)
    phase.state, phase.started_at = PhaseState.RUNNING, now
    phase.deadline_at = now + timedelta(seconds=rollout.wait_seconds)
    phase.save(update_fields=["state", "started_at", "deadline_at"])
    push.push_after_commit(created)
    logger.info(
        "rollout phase started",
        extra={"rollout_id": str(rollout.pk), "phase": phase.number, "deployments": len(created)},
    )


def _judge_phase(rollout: Rollout, phase: RolloutPhase, *, now: datetime) -> bool:
    """Judge the running phase; True when it passed (the next may start)."""
    states = list(phase.targets.exclude(state=T.SKIPPED).values_list("state", flat=True))
    failed = states.count(T.FAILED)
    if states and failed * 100 > rollout.max_failure_percent * len(states):
        _pause(rollout, phase, "phase_failed", now=now, failed=failed, count=len(states))
        return False
    if any(state in (T.PLANNED, T.DEPLOYING, T.CHECKING) for state in states):
        return False
    if states and T.PASSED not in states:
        # Every device offline (or failed within the share): nothing confirmed the model.
        offline = states.count(T.OFFLINE)
        _pause(rollout, phase, "phase_unconfirmed", now=now, offline=offline, count=len(states))
        return False
    phase.state, phase.finished_at = PhaseState.PASSED, now
    phase.save(update_fields=["state", "finished_at"])
    return True


def _pause(rollout: Rollout, phase: RolloutPhase, code: str, *, now: datetime, **figures) -> None:
    phase.state, phase.finished_at = PhaseState.FAILED, now
    phase.save(update_fields=["state", "finished_at"])
    rollout.state = RolloutState.PAUSED
    rollout.pause_code = code
    rollout.pause_details = {
        "phase": phase.number,
        "max_failure_percent": rollout.max_failure_percent,
        **figures,
    }


def _finish_rollback(rollout: Rollout, *, now: datetime) -> None:
    waiting = RolloutTarget.objects.filter(
        rollout=rollout,
        rollback_state=RollbackState.SENT,
        rollback__state__in=DeploymentState.unfinished(),
    ).exists()
    if not waiting:
        rollout.state, rollout.finished_at = RolloutState.ROLLED_BACK, now


def _schedule_next_look(rollout: Rollout, *, now: datetime) -> None:
    """Ask the worker to look again when a deadline passes or a waiting check is due."""
    wanted = None
    if rollout.state in (RolloutState.RUNNING, RolloutState.PAUSED):
        deadline = (
            rollout.phases.filter(state=PhaseState.RUNNING, deadline_at__gt=now)
            .values_list("deadline_at", flat=True)
            .first()
        )
        if deadline is not None and rollout.targets.filter(state=T.DEPLOYING).exists():
            wanted = deadline
    if rollout.targets.filter(
        state=T.DEPLOYING, deployment__state=DeploymentState.PENDING
    ).exists():
        again = now + NUDGE_AGAIN
        wanted = min(wanted, again) if wanted else again
    if rollout.targets.filter(state=T.CHECKING).exists():
        soon = now + rollout_checks.CHECK_INTERVAL
        wanted = min(wanted, soon) if wanted else soon
    if wanted is None and rollout.state == RolloutState.RUNNING:
        # Running with nothing due: a device still installing past its phase's deadline
        # (waited for only while it is connected, and a device that drops off reports
        # nothing), or phases that did not settle. A running rollout is never left
        # without a look coming.
        wanted = now + NUDGE_AGAIN
    if wanted is None:
        return
    already = rollout.next_look_at
    if already is not None and now < already <= wanted:
        return  # a look is set for then or sooner
    if rollout_wakes.schedule(rollout.pk, wanted):
        rollout.next_look_at = wanted
