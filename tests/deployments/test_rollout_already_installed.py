"""A phase whose devices already run the model passes in the same look that starts it,
and a rollout whose last phase does so completes at once: it never stays running with
nothing left to wait for (and its group locked)."""

from __future__ import annotations

import pytest

from deployments.rollout_choices import PhaseState, RolloutState, TargetState
from deployments.services import deployments_create
from tests.deployments.rollout_support import create, fresh, report, targets

pytestmark = pytest.mark.django_db


def preinstall(user, model, devices) -> None:
    """The model installed on these devices outside any rollout."""
    results = deployments_create(
        user=user, model_id=model.pk, device_ids=[device.pk for device in devices]
    )
    for result in results:
        report(result.device, result.deployment, "installed")


def phase_states(rollout) -> list[str]:
    return list(rollout.phases.order_by("number").values_list("state", flat=True))


def assert_completed(rollout) -> None:
    rollout = fresh(rollout)
    assert rollout.state == RolloutState.COMPLETED
    assert rollout.finished_at is not None
    assert set(phase_states(rollout)) == {PhaseState.PASSED}


def test_a_single_phase_already_installed_completes_at_once(alice, alice_kl720, fleet, committing):
    group, devices = fleet(2)
    preinstall(alice, alice_kl720, devices)

    rollout = committing(create, alice, alice_kl720, group, phases=["rest"])

    assert_completed(rollout)
    assert [(t.state, t.reason_code) for t in targets(rollout)] == [
        (TargetState.PASSED, "already_installed")
    ] * 2


@pytest.mark.parametrize("phases", [["1", "rest"], ["1", "1", "rest"]])
def test_every_phase_already_installed_completes_at_once(
    alice, alice_kl720, fleet, committing, phases
):
    group, devices = fleet(3)
    preinstall(alice, alice_kl720, devices)

    rollout = committing(create, alice, alice_kl720, group, phases=phases)

    assert_completed(rollout)
    assert {t.state for t in targets(rollout)} == {TargetState.PASSED}


def test_a_last_phase_already_installed_completes_when_the_one_before_passes(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "rest"])
    (first,) = targets(rollout, 1)
    preinstall(alice, alice_kl720, [t.device for t in targets(rollout, 2)])

    committing(report, first.device, first.deployment, "installed")

    assert_completed(rollout)
    assert [(t.state, t.reason_code) for t in targets(rollout, 2)] == [
        (TargetState.PASSED, "already_installed")
    ] * 2


def test_phases_already_installed_then_one_partly_waits_for_the_others(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(6)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "1", "2", "rest"])
    (first,) = targets(rollout, 1)
    done, installing = targets(rollout, 4)
    # Phases 2 and 3 wholly installed already; phase 4, one of its two devices.
    already = [t.device for t in targets(rollout, 2) + targets(rollout, 3)]
    preinstall(alice, alice_kl720, [*already, done.device])

    committing(report, first.device, first.deployment, "installed")

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.RUNNING
    assert phase_states(rollout) == [PhaseState.PASSED] * 3 + [PhaseState.RUNNING]
    done, installing = targets(rollout, 4)
    assert (done.state, done.reason_code) == (TargetState.PASSED, "already_installed")
    assert installing.state == TargetState.DEPLOYING

    committing(report, installing.device, installing.deployment, "installed")

    assert_completed(rollout)
