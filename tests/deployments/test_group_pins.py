"""A pinned group: its devices are left out of every rollout, with the group's name and
the reason; through the API (owner, another user, signed out) and the group's page."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from deployments import group_services, rollout_texts
from deployments.models import Deployment, GroupPin, RolloutTarget
from deployments.rollout_choices import TargetState
from deployments.rollout_errors import NoEligibleDevice
from tests.deployments.rollout_support import create, report, targets

pytestmark = pytest.mark.django_db


def test_the_api_pins_and_unpins_a_group(api, bob_api, alice, fleet):
    group, _devices = fleet(2)

    pinned = api.post(f"/api/groups/{group.pk}/pin", {"reason": "field trial"}, format="json")

    assert pinned.status_code == 200, pinned.content
    assert (pinned.json()["pinned"], pinned.json()["reason"]) == (True, "field trial")
    shown = api.get(f"/api/groups/{group.pk}").json()
    assert (shown["pinned"], shown["pin_reason"]) == (True, "field trial")
    listed = api.get("/api/groups").json()["groups"]
    assert [(g["name"], g["pinned"]) for g in listed] == [(group.name, True)]
    assert api.post(f"/api/groups/{group.pk}/pin", {"reason": "x" * 201}, format="json").json()[
        "error"
    ]["code"] == ("validation_failed")

    unpinned = api.post(f"/api/groups/{group.pk}/unpin")
    assert (unpinned.status_code, unpinned.json()["pinned"]) == (200, False)
    assert not GroupPin.objects.exists()


def test_another_users_group_cannot_be_pinned_and_signed_out_gets_401(api, bob_api, fleet):
    group, _devices = fleet(1)
    for path in (f"/api/groups/{group.pk}/pin", f"/api/groups/{group.pk}/unpin"):
        refused = bob_api.post(path, {}, format="json")
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "group_not_found")
        assert APIClient().post(path, {}, format="json").status_code == 401
    assert not GroupPin.objects.exists()
    api.post(f"/api/groups/{group.pk}/pin", {}, format="json")
    assert bob_api.post(f"/api/groups/{group.pk}/unpin").status_code == 404
    assert GroupPin.objects.filter(group=group).exists()


def test_a_pinned_groups_devices_are_left_out_of_another_groups_rollout(
    api, alice, alice_kl720, fleet, committing
):
    lab, (kept, other) = fleet(2)
    _elsewhere, (free,) = fleet(1)
    group_services.group_pin(user=alice, group_id=lab.pk, reason="field trial")
    everything = group_services.group_create(
        user=alice, name="everything", device_ids=[kept.pk, other.pk, free.pk]
    )
    group_services.device_pin(user=alice, device_id=other.pk, reason="its own")

    rollout = committing(create, alice, alice_kl720, everything)

    left_out = {t.device_id: t for t in RolloutTarget.objects.filter(rollout=rollout)}
    assert (left_out[kept.pk].state, left_out[kept.pk].reason_code) == (
        TargetState.SKIPPED,
        "group_pinned",
    )
    assert left_out[other.pk].reason_code == "pinned"  # its own pin says more
    shown = api.get(f"/api/rollouts/{rollout.pk}").json()["devices"]
    by_id = {d["device"]["id"]: d for d in shown}
    assert by_id[str(kept.pk)]["reason"] == f"Pinned with the group {lab.name}: field trial"
    assert by_id[str(kept.pk)]["device"]["pin_reason"] == "field trial"
    with translation.override("zh-hant"):
        chinese = rollout_texts.target_reason(left_out[kept.pk], model_chips=["KL720"])
    assert lab.name in chinese and re.search(r"[\u4e00-\u9fff]", chinese)
    assert left_out[free.pk].state == TargetState.DEPLOYING
    assert set(Deployment.objects.values_list("device_id", flat=True)) == {free.pk}


def test_a_rollout_of_a_pinned_group_is_refused(alice, alice_kl720, fleet):
    group, _devices = fleet(2)
    group_services.group_pin(user=alice, group_id=group.pk)
    with pytest.raises(NoEligibleDevice):
        create(alice, alice_kl720, group)
    group_services.group_unpin(user=alice, group_id=group.pk)
    assert create(alice, alice_kl720, group).pk


def test_a_group_pinned_during_a_rollout_leaves_its_devices_out_of_the_next_phase(
    alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(3)
    rollout = committing(create, alice, alice_kl720, group, phases=["1", "rest"])
    group_services.group_pin(user=alice, group_id=group.pk, reason="stop here")
    (first,) = targets(rollout, 1)

    committing(report, first.device, first.deployment, "installed")

    later = targets(rollout, 2)
    assert {(t.state, t.reason_code) for t in later} == {(TargetState.SKIPPED, "group_pinned")}
    assert Deployment.objects.count() == 1


def test_the_group_page_pins_and_unpins(alice_client, bob_client, alice, fleet, committing):
    group, _devices = fleet(1)
    html = alice_client.get(f"/devices/groups/{group.pk}/").content.decode()
    assert "Pin the group: keep its devices out of rollouts" in html

    assert bob_client.post(f"/devices/groups/{group.pk}/pin/", {"reason": "x"}).status_code == 404
    done = alice_client.post(f"/devices/groups/{group.pk}/pin/", {"reason": "field trial"})

    assert done.headers["Location"] == f"/devices/groups/{group.pk}/"
    assert GroupPin.objects.get(group=group).reason == "field trial"
    html = alice_client.get(f"/devices/groups/{group.pk}/").content.decode()
    assert "The group is pinned: rollouts leave its devices out." in html
    assert "field trial" in html and "Unpin the group" in html
    chinese = alice_client.get(f"/devices/groups/{group.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "取消釘選群組" in chinese.content.decode()

    assert bob_client.post(f"/devices/groups/{group.pk}/unpin/").status_code == 404
    alice_client.post(f"/devices/groups/{group.pk}/unpin/")
    assert not GroupPin.objects.exists()
    html = alice_client.get(f"/devices/groups/{group.pk}/").content.decode()
    assert "The group is unpinned: rollouts include its devices again." in html
