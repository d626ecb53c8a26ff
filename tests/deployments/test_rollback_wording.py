"""Rollback says what it did: a rollout rolled back where no device had a model to go
back to says nothing was rolled back and each keeps what it has (not a bare "Rolled
back"); one that sent some says how many went back and how many kept what they have;
a group rollback with nothing to undo says so, not "on its way to 0 devices"."""

from __future__ import annotations

import pytest

from deployments import rollout_actions
from deployments.rollout_choices import RolloutState
from deployments.services import deployments_create
from tests.deployments.rollout_support import create, fresh, report, targets

pytestmark = pytest.mark.django_db


def page(client, path, language="en"):
    return client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_a_rollout_with_nothing_to_undo_says_nothing_was_rolled_back(
    alice_client, alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(2)
    rollout = committing(create, alice, alice_kl720, group, phases=["rest"])
    for target in targets(rollout):
        committing(report, target.device, target.deployment, "installed")

    answer = committing(alice_client.post, f"/devices/rollouts/{rollout.pk}/rollback/")

    assert fresh(rollout).state == RolloutState.ROLLED_BACK
    html = page(alice_client, answer.headers["Location"])
    assert "no device was rolled back: none had a model this rollout could undo" in html
    assert "Rolling back: each device" not in html
    assert html.count('data-role="rollback-summary"') == 1
    chinese = page(alice_client, answer.headers["Location"], "zh-hant")
    assert "沒有任何裝置被回復" in chinese


def test_a_rollout_rolled_back_in_part_says_how_many_went_back(
    alice_client, alice, make_model, fleet, committing
):
    group, devices = fleet(2)
    old = make_model(alice, "v1", chips=("KL720",))
    new = make_model(alice, "v2", chips=("KL720",))
    (result,) = committing(
        deployments_create, user=alice, model_id=old.pk, device_ids=[devices[0].pk]
    )
    report(result.device, result.deployment, "installed")
    rollout = committing(create, alice, new, group, phases=["rest"])
    for target in targets(rollout):
        committing(report, target.device, target.deployment, "installed")

    committing(rollout_actions.rollout_rollback, user=alice, rollout_id=rollout.pk)

    html = page(alice_client, f"/devices/rollouts/{rollout.pk}/")
    assert "1 device was sent back to the model it had before." in html
    assert "1 device keeps what it has; the reason is given next to it." in html
    assert "It had no model before this one." in html
    assert 'data-role="rollback-summary"' not in page(alice_client, "/devices/rollouts/")


def test_a_running_rollout_has_no_rollback_summary(
    alice_client, alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(1)
    rollout = committing(create, alice, alice_kl720, group)
    assert 'data-role="rollback-summary"' not in page(
        alice_client, f"/devices/rollouts/{rollout.pk}/"
    )


def test_a_group_with_nothing_to_roll_back_says_so(alice_client, alice, alice_kl720, fleet):
    group, devices = fleet(2)
    for device in devices:
        (result,) = deployments_create(user=alice, model_id=alice_kl720.pk, device_ids=[device.pk])
        report(device, result.deployment, "installed")

    answer = alice_client.post(f"/devices/groups/{group.pk}/rollback/", follow=True)

    html = answer.content.decode()
    assert "Nothing was rolled back: no device of the group has a model it can go back to." in html
    assert "on its way to 0 devices" not in html
    assert "message-warning" in html and "message-success" not in html
    assert f"{devices[0].name}: This device had no model before detector" in html
