"""Bad rollouts are refused whole: nothing is made, and the error says why."""

from __future__ import annotations

import pytest

from deployments import group_services, rollout_actions
from deployments.models import Deployment, Rollout, RolloutTarget
from deployments.rollout_choices import TargetState
from deployments.rollout_errors import (
    GroupEmpty,
    GroupNotFound,
    NoDeviceOfChip,
    NoEligibleDevice,
    RolloutInProgress,
)
from models_repo.errors import ModelNotFound
from tests.deployments.rollout_support import create, targets

pytestmark = pytest.mark.django_db


def nothing_made() -> bool:
    return not Rollout.objects.exists() and not Deployment.objects.exists()


def test_an_empty_group_is_refused(alice, alice_kl720):
    group = group_services.group_create(user=alice, name="empty")
    with pytest.raises(GroupEmpty):
        create(alice, alice_kl720, group)
    assert nothing_made()


def test_another_users_group_or_model_is_not_found(alice, bob, alice_kl720, make_model, fleet):
    group, _devices = fleet(2)
    bobs_model = make_model(bob, chips=("KL720",))
    with pytest.raises(GroupNotFound):
        create(bob, bobs_model, group)
    with pytest.raises(ModelNotFound):
        create(alice, bobs_model, group)
    assert nothing_made()


def test_a_model_for_no_chip_of_the_group_is_refused_with_the_devices(alice, make_model, fleet):
    group, devices = fleet(2)
    kl520 = make_model(alice, chips=("KL520",))
    with pytest.raises(NoDeviceOfChip) as refused:
        create(alice, kl520, group)
    assert refused.value.details["model_chips"] == ["KL520"]
    assert {d["id"] for d in refused.value.details["devices"]} == {str(d.pk) for d in devices}
    assert nothing_made()


def test_a_group_of_pinned_devices_is_refused(alice, alice_kl720, fleet):
    group, devices = fleet(2)
    for device in devices:
        group_services.device_pin(user=alice, device_id=device.pk, reason="field trial")
    with pytest.raises(NoEligibleDevice):
        create(alice, alice_kl720, group)
    assert nothing_made()


def test_a_second_rollout_of_the_group_is_refused_until_the_first_ends(
    alice, alice_kl720, make_model, fleet, committing
):
    group, _devices = fleet(2)
    first = committing(create, alice, alice_kl720, group)
    other = make_model(alice, chips=("KL720",))

    with pytest.raises(RolloutInProgress) as refused:
        create(alice, other, group)
    assert refused.value.details == {"rollout_id": str(first.pk)}
    assert Rollout.objects.count() == 1

    committing(rollout_actions.rollout_rollback, user=alice, rollout_id=first.pk)
    second = committing(create, alice, other, group)
    assert second.pk != first.pk


def test_pinned_devices_are_left_out_with_the_reason(alice, alice_kl720, fleet, committing):
    group, devices = fleet(3)
    pinned = sorted(devices, key=lambda d: d.name)[0]
    group_services.device_pin(user=alice, device_id=pinned.pk, reason="customer demo")

    rollout = committing(create, alice, alice_kl720, group)

    target = RolloutTarget.objects.get(rollout=rollout, device=pinned)
    assert (target.state, target.reason_code, target.reason) == (
        TargetState.SKIPPED,
        "pinned",
        "customer demo",
    )
    assert not Deployment.objects.filter(device=pinned).exists()


def test_a_device_pinned_after_planning_is_left_out_when_its_phase_starts(
    alice, alice_kl720, fleet, committing
):
    from tests.deployments.rollout_support import report

    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "rest"])
    later = targets(rollout, 2)[0]
    group_services.device_pin(user=alice, device_id=later.device_id, reason="kept")
    (first,) = targets(rollout, 1)

    committing(report, first.device, first.deployment, "installed")

    target = RolloutTarget.objects.get(pk=later.pk)
    assert (target.state, target.reason_code, target.reason) == (
        TargetState.SKIPPED,
        "pinned",
        "kept",
    )
    assert not Deployment.objects.filter(device_id=later.device_id).exists()
