"""The user's actions on a rollout: pause, resume, retry, roll back."""

from __future__ import annotations

import pytest

from deployments import rollout_actions
from deployments.models import Deployment
from deployments.rollout_choices import (
    DeploymentKind,
    PhaseState,
    RollbackState,
    RolloutState,
    TargetState,
)
from deployments.rollout_errors import NothingToRetry, RolloutNotFound, RolloutStateConflict
from deployments.services import deployments_create
from tests.deployments.rollout_support import create, fail, fresh, report, targets

pytestmark = pytest.mark.django_db


@pytest.fixture
def paused(alice, alice_kl720, fleet, committing):
    """A rollout paused in phase 2 (1, 2, rest of 5): one of its two devices failed."""
    group, _devices = fleet(5)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "2", "rest"])
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "installed")
    bad, good = targets(rollout, 2)
    committing(fail, bad.device, bad.deployment)
    committing(report, good.device, good.deployment, "installed")
    assert fresh(rollout).state == RolloutState.PAUSED
    return rollout


def test_retry_sends_again_to_the_failed_and_goes_on_when_they_pass(alice, paused, committing):
    before = Deployment.objects.count()

    committing(rollout_actions.rollout_retry, user=alice, rollout_id=paused.pk)

    rollout = fresh(paused)
    assert rollout.state == RolloutState.RUNNING
    assert rollout.phases.get(number=2).state == PhaseState.RUNNING
    retried = next(t for t in targets(rollout, 2) if t.state == TargetState.DEPLOYING)
    assert Deployment.objects.count() == before + 1
    assert retried.deployment.state == "pending"
    committing(report, retried.device, retried.deployment, "installed")
    rollout = fresh(rollout)
    assert rollout.phases.get(number=2).state == PhaseState.PASSED
    assert {t.state for t in targets(rollout, 3)} == {TargetState.DEPLOYING}


def test_resume_accepts_the_failed_phase_and_starts_the_next(alice, paused, committing):
    committing(rollout_actions.rollout_resume, user=alice, rollout_id=paused.pk)

    rollout = fresh(paused)
    assert rollout.state == RolloutState.RUNNING
    assert (rollout.pause_code, rollout.pause_details) == ("", {})
    assert rollout.phases.get(number=2).state == PhaseState.ACCEPTED
    assert {t.state for t in targets(rollout, 3)} == {TargetState.DEPLOYING}


def test_pause_stops_the_next_phase_and_resume_lets_it_start(alice, alice_kl720, fleet, committing):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "rest"])
    committing(rollout_actions.rollout_pause, user=alice, rollout_id=rollout.pk)
    (first,) = targets(rollout, 1)

    committing(report, first.device, first.deployment, "installed")

    assert fresh(rollout).state == RolloutState.PAUSED
    assert fresh(rollout).pause_code == "by_user"
    assert targets(rollout, 1)[0].state == TargetState.PASSED
    assert {t.state for t in targets(rollout, 2)} == {TargetState.PLANNED}
    committing(rollout_actions.rollout_resume, user=alice, rollout_id=rollout.pk)
    assert {t.state for t in targets(rollout, 2)} == {TargetState.DEPLOYING}


def test_rollback_brings_back_what_each_device_had_and_cancels_the_rest(
    alice, make_model, fleet, committing
):
    group, devices = fleet(4)
    old = make_model(alice, "detector v1", chips=("KL720",), size=2000)
    new = make_model(alice, "detector v2", chips=("KL720",), size=3000)
    for result in committing(
        deployments_create, user=alice, model_id=old.pk, device_ids=[d.pk for d in devices]
    ):
        report(result.device, result.deployment, "installed")
    rollout = committing(create, alice, new, group, phases=["1", "2", "rest"])
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "installed")
    done, under_way = targets(rollout, 2)
    committing(report, done.device, done.deployment, "installed")
    committing(report, under_way.device, under_way.deployment, "downloading", bytes_done=5)

    committing(rollout_actions.rollout_rollback, user=alice, rollout_id=rollout.pk)

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.ROLLING_BACK
    by_device = {t.device_id: t for t in targets(rollout)}
    for target in (by_device[first.device_id], by_device[done.device_id]):
        assert target.rollback_state == RollbackState.SENT
        rollback = target.rollback
        assert (rollback.kind, rollback.model_id, rollback.sha256) == (
            DeploymentKind.ROLLBACK,
            old.pk,
            old.sha256,
        )
        assert rollback.rolls_back_id == target.deployment_id
    cancelled = by_device[under_way.device_id]
    assert (cancelled.state, cancelled.rollback_code) == (TargetState.CANCELLED, "cancelled")
    assert cancelled.deployment.state == "cancelled"
    (planned,) = targets(rollout, 3)
    assert (planned.state, planned.rollback_code) == (TargetState.CANCELLED, "not_started")
    assert rollout.phases.get(number=3).state == PhaseState.CANCELLED

    for target in (by_device[first.device_id], by_device[done.device_id]):
        committing(report, target.device, target.rollback, "installed", restored_from="kept_copy")

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.ROLLED_BACK
    assert rollout.finished_at is not None
    rollback = by_device[first.device_id].rollback
    rollback.refresh_from_db()
    assert rollback.restored_from == "kept_copy"
    assert rollback.previous_id == by_device[first.device_id].deployment_id


def test_what_a_rollout_found_installed_is_not_rolled_back(alice, alice_kl720, fleet, committing):
    group, devices = fleet(1)
    (result,) = committing(
        deployments_create, user=alice, model_id=alice_kl720.pk, device_ids=[devices[0].pk]
    )
    report(result.device, result.deployment, "installed")
    rollout = committing(create, alice, alice_kl720, group)
    (target,) = targets(rollout, 1)
    assert (target.state, target.reason_code) == (TargetState.PASSED, "already_installed")

    committing(rollout_actions.rollout_rollback, user=alice, rollout_id=rollout.pk)

    (target,) = targets(rollout, 1)
    assert (target.rollback_state, target.rollback_code) == ("skipped", "installed_before")
    assert fresh(rollout).state == RolloutState.ROLLED_BACK


def test_actions_in_the_wrong_state_are_refused_with_nothing_changed(
    alice, bob, alice_kl720, fleet, committing
):
    group, _devices = fleet(2)
    rollout = committing(create, alice, alice_kl720, group)

    with pytest.raises(RolloutStateConflict):
        rollout_actions.rollout_resume(user=alice, rollout_id=rollout.pk)
    with pytest.raises(NothingToRetry):
        rollout_actions.rollout_retry(user=alice, rollout_id=rollout.pk)
    with pytest.raises(RolloutNotFound):
        rollout_actions.rollout_pause(user=bob, rollout_id=rollout.pk)
    with pytest.raises(RolloutNotFound):
        rollout_actions.rollout_pause(user=alice, rollout_id="not-a-uuid")
    committing(rollout_actions.rollout_rollback, user=alice, rollout_id=rollout.pk)
    with pytest.raises(RolloutStateConflict):
        rollout_actions.rollout_rollback(user=alice, rollout_id=rollout.pk)
    assert fresh(rollout).state == RolloutState.ROLLED_BACK
