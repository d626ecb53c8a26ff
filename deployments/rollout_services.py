"""Writes about rollouts: create, pause, resume, retry, roll back (docs/deployments.md).

Each one locks the rollout's row (``SELECT ... FOR UPDATE``) before it decides, as the
background worker's advance does (deployments/rollout_engine.py), so a user's action and
the worker never act on two different ideas of the rollout's state. None of them waits
for a device: they change rows, then the worker is woken after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from deployments import (
    group_selectors,
    rollout_phases,
    rollout_smoke,
    rollout_wakes,
    run_selectors,
)
from deployments.group_models import DeviceGroup
from deployments.rollout_checks import connected_ids
from deployments.rollout_choices import RolloutState, TargetState
from deployments.rollout_errors import (
    GroupEmpty,
    NoDeviceOfChip,
    NoEligibleDevice,
    RolloutInProgress,
    RolloutNotFound,
    SmokeRunInvalid,
)
from deployments.rollout_models import (
    DEFAULT_MAX_FAILURE_PERCENT,
    DEFAULT_PHASES,
    DEFAULT_WAIT_SECONDS,
    Rollout,
    RolloutPhase,
    RolloutTarget,
    RolloutWake,
)
from deployments.run_choices import RunState
from deployments.run_models import Run
from devices.models import Device
from models_repo import selectors as model_selectors
from models_repo.models import NefModel
from visiona.models import User

logger = logging.getLogger(__name__)


def rollout_create(
    *,
    user: User,
    model_id: int,
    group_id: uuid.UUID | str,
    phases: Sequence[str] = DEFAULT_PHASES,
    max_failure_percent: int = DEFAULT_MAX_FAILURE_PERCENT,
    wait_seconds: int = DEFAULT_WAIT_SECONDS,
    smoke_run_id: uuid.UUID | str | None = None,
    smoke_min_cosine: float | None = None,
    smoke_expect: str = "",
) -> Rollout:
    """Plan a rollout of the user's model to their group; the worker starts phase 1.

    Refused whole, with nothing made: an unknown group or model (404), an empty group
    (``group_empty``), no device of the model's chips (``no_device_of_chip``), every such
    device pinned (``no_eligible_devices``), the group's other rollout under way (409
    ``rollout_in_progress``), a smoke run that is not a completed run of the model, or a
    least cosine for a model without its original ONNX (``smoke_run_invalid``), an
    expectation that is not one (``validation_failed``, field ``smoke_expect``).

    ``smoke_expect`` is the runs' expectations ("cosine>=0.99,top1>=0.98"); the least
    cosine is the older form of "cosine>=X", and both together are both expected.
    """
    model = model_selectors.model_get_for_user(user=user, model_id=model_id)
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    phases = rollout_phases.clean_phases(phases)
    expect = rollout_smoke.clean_expectations(smoke_expect, least=smoke_min_cosine)
    smoke_run = _smoke_run(
        user=user, model=model, run_id=smoke_run_id, least=smoke_min_cosine, expect=expect
    )
    try:
        with transaction.atomic():
            rollout = _create_locked(
                user=user,
                model=model,
                group=group,
                phases=phases,
                max_failure_percent=max_failure_percent,
                wait_seconds=wait_seconds,
            )
            if smoke_run is not None:
                rollout.smoke_run, rollout.smoke_min_cosine = smoke_run, smoke_min_cosine
                rollout.smoke_gate, rollout.smoke_expect = True, expect
                rollout.save(
                    update_fields=[
                        "smoke_run",
                        "smoke_gate",
                        "smoke_min_cosine",
                        "smoke_expect",
                        "updated_at",
                    ]
                )
            rollout_wakes.wake_after_commit(rollout.pk)
    except IntegrityError:
        # The one-active-rollout rule, where row locks did not serialize (SQLite).
        raise RolloutInProgress() from None
    logger.info(
        "rollout created",
        extra={"rollout_id": str(rollout.pk), "group_id": str(group.pk), "model_id": model.pk},
    )
    return rollout


def _smoke_run(*, user: User, model, run_id, least: float | None, expect: str) -> Run | None:
    """The earlier run whose inputs each device's smoke run takes, checked."""
    if run_id is None:
        if least is not None:
            raise SmokeRunInvalid(_("A least cosine needs a smoke run."))
        if expect:
            raise SmokeRunInvalid(_("Expectations need a smoke run."))
        return None
    run = run_selectors.run_get_for_user(user=user, run_id=run_id)
    if run.model_id != model.pk or run.state != RunState.COMPLETED:
        raise SmokeRunInvalid()
    if least is not None and not model.has_reference:
        raise SmokeRunInvalid(
            _("This model has no original ONNX to compare with: leave the least cosine out.")
        )
    if rollout_smoke.needs_reference(expect) and not model.has_reference:
        raise SmokeRunInvalid(
            _(
                "This model has no original ONNX to compare with: expect only its latency "
                "(p50_ms, p90_ms, throughput)."
            )
        )
    return run


def _create_locked(
    *, user: User, model, group: DeviceGroup, phases, max_failure_percent, wait_seconds
) -> Rollout:
    # Two creates for one group wait for each other here; the second sees the first.
    DeviceGroup.objects.select_for_update().filter(pk=group.pk).first()
    active = Rollout.objects.filter(group=group, state__in=RolloutState.active()).first()
    if active is not None:
        raise RolloutInProgress(details={"rollout_id": str(active.pk)})
    devices = list(group_selectors.group_devices(group=group))
    if not devices:
        raise GroupEmpty()
    eligible, skipped = _eligible(model=model, devices=devices)
    if len(skipped) == len(devices) and all(s[1] == "chip_mismatch" for s in skipped):
        raise NoDeviceOfChip(details=_chip_details(model, devices))
    if not eligible:
        raise NoEligibleDevice()
    rollout = Rollout.objects.create(
        owner=user,
        group=group,
        group_name=group.name,
        model=model,
        max_failure_percent=max_failure_percent,
        wait_seconds=wait_seconds,
    )
    RolloutWake.objects.create(rollout=rollout)
    targets = [
        RolloutTarget(
            rollout=rollout,
            device=device,
            state=TargetState.SKIPPED,
            reason_code=code,
            reason=reason,
        )
        for device, code, reason in skipped
    ]
    remaining = iter(_ordered(eligible))
    sizes = rollout_phases.phase_sizes(phases, len(eligible))
    for number, (size, count) in enumerate(sizes, start=1):
        phase = RolloutPhase.objects.create(rollout=rollout, number=number, size=size)
        targets += [
            RolloutTarget(rollout=rollout, device=next(remaining), phase=phase)
            for _index in range(count)
        ]
    RolloutTarget.objects.bulk_create(targets)
    return rollout


def skip_reason(
    *, model: NefModel, device: Device, pin: tuple[str, str] | None
) -> tuple[str, str] | None:
    """Why ``device`` is left out of a rollout of ``model``: a code and what the sentence
    for it needs that the rows do not hold (a pin's reason; for a group's pin, the
    group's name too); None when it takes part. ``pin``: from ``rollout_pins``."""
    if device.chip not in model.chips:
        return "chip_mismatch", ""
    return pin


def _eligible(
    *, model: NefModel, devices: list[Device]
) -> tuple[list[Device], list[tuple[Device, str, str]]]:
    pins = group_selectors.rollout_pins(devices=devices)
    eligible, skipped = [], []
    for device in devices:
        why = skip_reason(model=model, device=device, pin=pins.get(str(device.pk)))
        if why is None:
            eligible.append(device)
        else:
            skipped.append((device, *why))
    return eligible, skipped


def _ordered(devices: list[Device]) -> list[Device]:
    """Connected devices first (the first phase's few should be able to answer), by name."""
    online = connected_ids(devices)
    return sorted(
        devices, key=lambda device: (str(device.pk) not in online, device.name.lower(), device.pk)
    )


def _chip_details(model, devices: list[Device]) -> dict:
    return {
        "devices": [
            {"id": str(device.pk), "name": device.name, "chip": device.chip} for device in devices
        ],
        "model_chips": model.chips,
    }


def locked_rollout(*, user: User, rollout_id: uuid.UUID | str) -> Rollout:
    """The user's rollout, its row locked until the transaction ends; 404 otherwise."""
    try:
        rollout = (
            Rollout.objects.select_for_update(of=("self",))
            .select_related("model")
            .filter(owner=user, pk=rollout_id)
            .first()
        )
    except (ValueError, TypeError, ValidationError):  # a malformed id
        rollout = None
    if rollout is None:
        raise RolloutNotFound()
    return rollout
