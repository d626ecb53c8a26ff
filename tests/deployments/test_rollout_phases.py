"""A rollout goes through its phases as its devices report (the engine, woken at once by
the tests' immediate task backend)."""

from __future__ import annotations

import pytest

from deployments.models import Deployment
from deployments.rollout_choices import PhaseState, RolloutState, TargetState
from deployments.rollout_phases import clean_phases, phase_sizes
from tests.deployments.rollout_support import create, fail, fresh, report, targets

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("phases", "total", "sizes"),
    [
        (["1", "20%", "rest"], 20, [1, 4, 15]),
        (["1", "20%"], 20, [1, 4, 15]),
        (["1", "20%", "rest"], 2, [1, 1]),
        (["5"], 3, [3]),
        (["50%", "50%"], 3, [2, 1]),
        (["rest"], 7, [7]),
    ],
)
def test_phase_sizes(phases, total, sizes):
    assert [size for _phase, size in phase_sizes(clean_phases(phases), total)] == sizes


@pytest.mark.parametrize("phases", [[], ["0"], ["120%"], ["rest", "1"], ["two"], ["1"] * 11])
def test_bad_phases_are_refused(phases):
    from visiona.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        clean_phases(phases)


def test_the_first_phase_starts_with_one_connected_device(alice, alice_kl720, fleet, committing):
    group, _devices = fleet(10)

    rollout = committing(create, alice, alice_kl720, group)

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.RUNNING
    phases = list(rollout.phases.order_by("number"))
    assert [(p.size, p.state) for p in phases] == [
        ("1", PhaseState.RUNNING),
        ("20%", PhaseState.WAITING),
        ("rest", PhaseState.WAITING),
    ]
    assert [len(targets(rollout, n)) for n in (1, 2, 3)] == [1, 2, 7]
    (first,) = targets(rollout, 1)
    assert first.state == TargetState.DEPLOYING
    assert first.deployment.rollout_id == rollout.pk
    assert Deployment.objects.count() == 1
    assert phases[0].deadline_at is not None


def test_a_phase_that_installs_and_stays_connected_starts_the_next(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(5)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "2", "rest"])
    (first,) = targets(rollout, 1)

    committing(report, first.device, first.deployment, "installed")

    rollout = fresh(rollout)
    assert targets(rollout, 1)[0].state == TargetState.PASSED
    second = targets(rollout, 2)
    assert [t.state for t in second] == [TargetState.DEPLOYING] * 2
    for target in second:
        committing(report, target.device, target.deployment, "installed")
    for target in targets(rollout, 3):
        committing(report, target.device, target.deployment, "installed")

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.COMPLETED
    assert rollout.finished_at is not None
    assert {t.state for t in targets(rollout)} == {TargetState.PASSED}
    assert set(rollout.phases.values_list("state", flat=True)) == {PhaseState.PASSED}


def test_too_many_failures_pause_it_and_say_why(alice, alice_kl720, fleet, committing):
    group, _devices = fleet(6)
    rollout = committing(
        create, alice, alice_kl720, group, phases=["1", "4", "rest"], max_failure_percent=25
    )
    (first,) = targets(rollout, 1)
    committing(report, first.device, first.deployment, "installed")
    one, two, three, _four = targets(rollout, 2)

    committing(fail, one.device, one.deployment)  # 1 of 4: 25 %, allowed
    assert fresh(rollout).state == RolloutState.RUNNING
    committing(fail, two.device, two.deployment)  # 2 of 4: more than 25 %

    rollout = fresh(rollout)
    assert rollout.state == RolloutState.PAUSED
    assert rollout.pause_code == "phase_failed"
    assert rollout.pause_details == {
        "phase": 2,
        "max_failure_percent": 25,
        "failed": 2,
        "count": 4,
    }
    assert rollout.phases.get(number=2).state == PhaseState.FAILED
    failed = [t for t in targets(rollout, 2) if t.state == TargetState.FAILED]
    assert {t.reason_code for t in failed} == {"install_failed"}
    # The devices still installing go on; the next phase does not start.
    committing(report, three.device, three.deployment, "installed")
    assert [t.state for t in targets(rollout, 3)] == [TargetState.PLANNED]
    assert fresh(rollout).state == RolloutState.PAUSED


def test_devices_of_another_chip_are_skipped_with_the_reason(
    alice, alice_kl720, fleet, committing, alice_devices
):
    from deployments import group_services

    group, _devices = fleet(2)
    other = alice_devices(1, chip="KL520")[0].device
    group_services.group_add_devices(user=alice, group_id=group.pk, device_ids=[other.pk])

    rollout = committing(create, alice, alice_kl720, group)

    skipped = [t for t in targets(rollout) if t.state == TargetState.SKIPPED]
    assert [(t.device_id, t.reason_code, t.phase_id) for t in skipped] == [
        (other.pk, "chip_mismatch", None)
    ]
    assert not Deployment.objects.filter(device=other).exists()
