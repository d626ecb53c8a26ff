"""A rollout phase's health gate: the checks each device must pass once it installed.

A check is ``check(*, targets, now) -> {target pk: Verdict}`` over the devices of a
rollout that report the model installed (``RolloutTarget`` with its ``device`` and
``deployment``). Each device gets ``passed``, ``failed`` (with a code and a sentence)
or ``waiting`` (ask again later: the engine looks again within ``CHECK_INTERVAL`` until
the phase's deadline, when a device still waiting fails with the check's reason).

Built in: ``connected``: the device came back connected after the install (its
tunnel is open, or its heartbeat is recent). Another app, or a later part of this one,
adds its own with ``register_phase_check``: the smoke run of issue 24 registers
``smoke_run`` (start a run of the model on the device, ``waiting`` until it finished,
``passed`` when it met its expectation) and wakes the rollout when a run ends
(``rollout_wakes.wake_after_commit(rollout_id)``); see docs/deployments.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from devices import presence
from devices.models import Device

if TYPE_CHECKING:
    from deployments.rollout_models import RolloutTarget

PASSED, FAILED, WAITING = "passed", "failed", "waiting"
# How soon the engine looks again at a device whose check is waiting.
CHECK_INTERVAL = timedelta(seconds=15)


@dataclass(frozen=True)
class Verdict:
    state: str
    code: str = ""
    reason: str = ""


Check = Callable[..., dict[int, Verdict]]


@dataclass(frozen=True)
class PhaseCheck:
    name: str
    check: Check
    order: int


_checks: dict[str, PhaseCheck] = {}


def register_phase_check(name: str, check: Check, *, order: int = 100) -> None:
    """Add (or replace, under the same name) a check every installed device must pass."""
    _checks[name] = PhaseCheck(name=name, check=check, order=order)


def phase_checks() -> list[PhaseCheck]:
    return sorted(_checks.values(), key=lambda entry: entry.order)


def connected_ids(devices: Iterable[Device], *, now: datetime | None = None) -> set[str]:
    """The devices connected now, as devices/presence.py says it (one registry lookup
    for them all): an open tunnel, or, only when the registry cannot answer, a recent
    heartbeat (as of ``now``)."""
    devices = list(devices)
    registrations = presence.registrations_or_none(devices=devices)
    if registrations is None:
        return {
            str(device.pk)
            for device in devices
            if device.deleted_at is None and device.heartbeat_is_recent(now)
        }
    return {
        str(device.pk) for device in devices if presence.presence_of(device, registrations).online
    }


def connected_check(*, targets: list[RolloutTarget], now: datetime) -> dict[int, Verdict]:
    online = connected_ids([target.device for target in targets], now=now)
    waiting = Verdict(
        WAITING, "not_connected", _("Installed, but the device has not come back connected.")
    )
    return {
        target.pk: Verdict(PASSED) if str(target.device_id) in online else waiting
        for target in targets
    }


def run_checks(*, targets: list[RolloutTarget], now: datetime) -> dict[int, Verdict]:
    """Every check over these devices: the first failure, else the first wait, else passed."""
    verdicts = {target.pk: Verdict(PASSED) for target in targets}
    for entry in phase_checks():
        pending = [target for target in targets if verdicts[target.pk].state == PASSED]
        if not pending:
            break
        for pk, verdict in entry.check(targets=pending, now=now).items():
            if verdict.state != PASSED:
                verdicts[pk] = verdict
    return verdicts


register_phase_check("connected", connected_check, order=0)
