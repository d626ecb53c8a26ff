"""Offline devices do not hold a phase past its deadline; the health gate waits for a
device to come back connected, until that deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import rollout_engine, rollout_wakes
from deployments.models import Deployment
from deployments.rollout_choices import PhaseState, RolloutState, TargetState
from devices import services as device_services
from devices.models import Device
from tests.deployments.rollout_support import (
    advance_at,
    connect,
    create,
    disconnect,
    fresh,
    report,
    targets,
)

pytestmark = pytest.mark.django_db

WAIT = 600


def offline(device: Device) -> None:
    disconnect(device)
    Device.objects.filter(pk=device.pk).update(last_seen_at=None, last_heartbeat_at=None)


def test_an_offline_device_stops_holding_its_phase_at_the_deadline(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(4)
    rollout = committing(
        create, alice, alice_kl720, group, phases=["1", "2", "rest"], wait_seconds=WAIT
    )
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "installed")
    here, away = targets(rollout, 2)
    offline(away.device)
    committing(report, here.device, here.deployment, "installed")

    # Before the deadline the phase waits for it.
    advance_at(rollout, seconds_from_now=WAIT - 60)
    assert targets(rollout, 2)[1].state == TargetState.DEPLOYING
    assert fresh(rollout).phases.get(number=2).state == PhaseState.RUNNING

    advance_at(rollout, seconds_from_now=WAIT + 1)

    rollout = fresh(rollout)
    away = next(t for t in targets(rollout, 2) if t.device_id == away.device_id)
    assert (away.state, away.reason_code) == (TargetState.OFFLINE, "offline")
    assert away.deployment.state == "pending"  # it still gets the model when it connects
    assert rollout.phases.get(number=2).state == PhaseState.PASSED
    assert [t.state for t in targets(rollout, 3)] == [TargetState.DEPLOYING]

    # Late, it connects and installs: counted as passed.
    device_services.device_heartbeat(device=away.device, agent_status="ready")
    connect(away.device)
    committing(report, away.device, away.deployment, "installed")
    assert next(t for t in targets(rollout, 2) if t.pk == away.pk).state == TargetState.PASSED


def test_a_device_installing_at_the_deadline_is_still_waited_for(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(2)
    rollout = committing(create, alice, alice_kl720, group, phases=["1"], wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "downloading", bytes_done=10)
    # Its heartbeats go on until then.
    later = timezone.now() + timedelta(seconds=WAIT)
    Device.objects.filter(pk=first.device_id).update(last_seen_at=later, last_heartbeat_at=later)

    advance_at(rollout, seconds_from_now=WAIT + 1)

    assert targets(rollout, 1)[0].state == TargetState.DEPLOYING  # connected, under way


def test_a_device_installing_past_the_deadline_is_looked_at_until_it_drops_off(
    alice, alice_kl720, fleet, committing, monkeypatch
):
    """No report comes from a device that drops off mid-download: the rollout is looked
    at again each minute, and the device stops holding its phase once it is gone."""
    looks = []

    def schedule(rollout_id, at):
        looks.append(at)
        return True

    monkeypatch.setattr(rollout_wakes, "schedule", schedule)
    group, _devices = fleet(2)
    rollout = committing(create, alice, alice_kl720, group, phases=["1"], wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "downloading", bytes_done=10)
    later = timezone.now() + timedelta(seconds=WAIT + 1)
    Device.objects.filter(pk=first.device_id).update(last_seen_at=later, last_heartbeat_at=later)
    looks.clear()

    rollout_engine.advance(rollout_id=rollout.pk, now=later)

    assert targets(rollout, 1)[0].state == TargetState.DEPLOYING  # connected, under way
    assert looks == [later + rollout_engine.NUDGE_AGAIN]
    offline(first.device)

    rollout_engine.advance(rollout_id=rollout.pk, now=looks[0])

    assert targets(rollout, 1)[0].state == TargetState.OFFLINE
    assert fresh(rollout).state == RolloutState.PAUSED  # phase_unconfirmed: nobody passed


def test_a_phase_where_no_device_took_the_model_pauses(alice, alice_kl720, fleet, committing):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    offline(first.device)

    advance_at(rollout, seconds_from_now=WAIT + 1)

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.PAUSED
    assert rollout.pause_code == "phase_unconfirmed"
    assert rollout.pause_details["offline"] == 1
    assert Deployment.objects.count() == 1  # phase 2 did not start


def test_installed_but_not_connected_waits_then_fails_the_gate(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    offline(first.device)  # it installs, then never comes back

    committing(report, first.device, first.deployment, "installed")

    target = targets(rollout, 1)[0]
    assert (target.state, target.reason_code) == (TargetState.CHECKING, "not_connected")
    advance_at(rollout, seconds_from_now=WAIT + 1)
    target = targets(rollout, 1)[0]
    assert (target.state, target.reason_code) == (TargetState.FAILED, "not_connected")
    assert fresh(rollout).pause_code == "phase_failed"


def test_a_registered_check_takes_part_in_the_gate(alice, alice_kl720, fleet, committing):
    from deployments import rollout_checks

    seen = []

    def smoke(*, targets, now):
        seen.extend(target.device_id for target in targets)
        return {
            target.pk: rollout_checks.Verdict("failed", "smoke_failed", "the model said no")
            for target in targets
        }

    rollout_checks.register_phase_check("smoke", smoke)
    try:
        group, _devices = fleet(2)
        rollout = committing(create, alice, alice_kl720, group)
        (first,) = targets(rollout, 1)
        committing(report, first.device, first.deployment, "installed")
    finally:
        rollout_checks._checks.pop("smoke")

    target = targets(rollout, 1)[0]
    assert seen == [first.device_id]
    assert (target.state, target.reason_code, target.reason) == (
        TargetState.FAILED,
        "smoke_failed",
        "the model said no",
    )
    assert fresh(rollout).state == RolloutState.PAUSED


def test_a_device_that_does_not_take_its_deployment_is_nudged_again(
    alice, alice_kl720, fleet, committing, monkeypatch
):
    from deployments import push

    group, _devices = fleet(2)
    rollout = committing(create, alice, alice_kl720, group, wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    nudged: list[list[str]] = []
    monkeypatch.setattr(push, "push_after_commit", lambda ids: nudged.append(list(ids)))

    advance_at(rollout, seconds_from_now=30)
    assert nudged == []  # the first push is a minute old only after a minute
    advance_at(rollout, seconds_from_now=61)
    assert nudged == [[str(first.device_id)]]
    advance_at(rollout, seconds_from_now=90)
    assert nudged == [[str(first.device_id)]]  # not again within the minute
    assert targets(rollout, 1)[0].nudged_at is not None


def test_a_connected_device_that_never_took_the_model_stops_holding_the_phase(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "rest"], wait_seconds=WAIT)
    (first,) = targets(rollout, 1)
    later = timezone.now() + timedelta(seconds=WAIT)
    # It stays online.
    Device.objects.filter(pk=first.device_id).update(last_seen_at=later, last_heartbeat_at=later)

    advance_at(rollout, seconds_from_now=WAIT + 1)

    target = targets(rollout, 1)[0]
    assert (target.state, target.reason_code) == (TargetState.OFFLINE, "offline")
