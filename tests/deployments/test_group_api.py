"""Groups, pins and rollback through the API: owner, another user, signed out."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from deployments.models import Deployment, DeviceGroup, DevicePin
from deployments.services import deployments_create
from tests.deployments.rollout_support import report

pytestmark = pytest.mark.django_db


def test_a_group_is_made_filled_by_chip_and_emptied(api, alice_devices):
    kl720 = [r.device for r in alice_devices(2)]
    kl520 = alice_devices(1, chip="KL520")[0].device

    made = api.post(
        "/api/groups", {"name": " Lab  rack ", "device_ids": [str(kl720[0].pk)]}, format="json"
    )
    assert made.status_code == 201, made.content
    group = made.json()
    assert (group["name"], group["device_count"], group["active_rollout"]) == ("Lab rack", 1, None)
    assert [d["id"] for d in group["devices"]] == [str(kl720[0].pk)]

    added = api.post(f"/api/groups/{group['id']}/devices/add", {"chip": "KL720"}, format="json")
    assert added.status_code == 200
    assert {d["id"] for d in added.json()["devices"]} == {str(d.pk) for d in kl720}
    assert str(kl520.pk) not in {d["id"] for d in added.json()["devices"]}

    removed = api.post(
        f"/api/groups/{group['id']}/devices/remove",
        {"device_ids": [str(kl720[1].pk)]},
        format="json",
    )
    assert [d["id"] for d in removed.json()["devices"]] == [str(kl720[0].pk)]

    listed = api.get("/api/groups").json()["groups"]
    assert [(g["name"], g["device_count"]) for g in listed] == [("Lab rack", 1)]


def test_names_are_unique_per_user_whatever_the_case(api, bob_api):
    assert api.post("/api/groups", {"name": "Lab"}, format="json").status_code == 201
    taken = api.post("/api/groups", {"name": "lab"}, format="json")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "group_name_taken"
    assert bob_api.post("/api/groups", {"name": "lab"}, format="json").status_code == 201


def test_another_users_device_refuses_the_whole_request(api, bob, alice_devices, issue_code, pair):
    mine = alice_devices(1)[0].device
    bobs = pair(issue_code(bob).code, serial="BOB-1").device

    refused = api.post(
        "/api/groups", {"name": "mixed", "device_ids": [str(mine.pk), str(bobs.pk)]}, format="json"
    )

    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "device_not_found"
    assert not DeviceGroup.objects.exists()


def test_another_users_group_is_not_found(api, bob_api):
    group = api.post("/api/groups", {"name": "Lab"}, format="json").json()
    for call in (
        lambda: bob_api.get(f"/api/groups/{group['id']}"),
        lambda: bob_api.patch(f"/api/groups/{group['id']}", {"name": "x"}, format="json"),
        lambda: bob_api.delete(f"/api/groups/{group['id']}"),
        lambda: bob_api.post(f"/api/groups/{group['id']}/rollback"),
    ):
        response = call()
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "group_not_found"
    assert DeviceGroup.objects.filter(name="Lab").exists()


def test_signed_out_gets_401(alice_devices):
    client = APIClient()
    device = alice_devices(1)[0].device
    for path in ("/api/groups", f"/api/devices/{device.pk}/pin", "/api/rollouts"):
        assert client.post(path, {}, format="json").status_code == 401


def test_rename_and_delete(api):
    group = api.post("/api/groups", {"name": "Lab"}, format="json").json()
    renamed = api.patch(f"/api/groups/{group['id']}", {"name": "Field"}, format="json")
    assert renamed.json()["name"] == "Field"
    assert api.delete(f"/api/groups/{group['id']}").status_code == 204
    assert api.get(f"/api/groups/{group['id']}").status_code == 404


def test_add_with_neither_devices_nor_a_chip_adds_nothing(api):
    group = api.post("/api/groups", {"name": "Lab"}, format="json").json()
    answer = api.post(f"/api/groups/{group['id']}/devices/add", {}, format="json")
    assert answer.status_code == 200
    assert answer.json()["devices"] == []
    refused = api.post(f"/api/groups/{group['id']}/devices/add", {"chip": "KL999"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"


def test_pin_and_unpin(api, bob_api, alice_devices):
    device = alice_devices(1)[0].device
    pinned = api.post(f"/api/devices/{device.pk}/pin", {"reason": "demo"}, format="json")
    assert pinned.status_code == 200
    assert (pinned.json()["pinned"], pinned.json()["reason"]) == (True, "demo")
    assert bob_api.post(f"/api/devices/{device.pk}/unpin").status_code == 404
    assert DevicePin.objects.filter(device=device).exists()
    unpinned = api.post(f"/api/devices/{device.pk}/unpin")
    assert unpinned.json()["pinned"] is False
    assert not DevicePin.objects.filter(device=device).exists()


def test_device_and_group_rollback(api, bob_api, alice, alice_devices, make_model):
    devices = [r.device for r in alice_devices(2)]
    old = make_model(alice, "v1", chips=("KL720",))
    new = make_model(alice, "v2", chips=("KL720",))
    for model in (old, new):
        for result in deployments_create(user=alice, model_id=model.pk, device_ids=[devices[0].pk]):
            report(result.device, result.deployment, "installed")

    assert bob_api.post(f"/api/devices/{devices[0].pk}/rollback").status_code == 404
    nothing = api.post(f"/api/devices/{devices[1].pk}/rollback")
    assert nothing.status_code == 409
    assert nothing.json()["error"]["code"] == "nothing_to_roll_back"

    group = api.post(
        "/api/groups", {"name": "Lab", "device_ids": [str(d.pk) for d in devices]}, format="json"
    ).json()
    answer = api.post(f"/api/groups/{group['id']}/rollback")

    assert answer.status_code == 200
    results = {r["device_id"]: r for r in answer.json()["results"]}
    sent = results[str(devices[0].pk)]
    assert sent["outcome"] == "sent"
    assert (sent["deployment"]["kind"], sent["deployment"]["model"]["id"]) == ("rollback", old.pk)
    skipped = results[str(devices[1].pk)]
    assert (skipped["outcome"], skipped["code"]) == ("skipped", "nothing_to_roll_back")
    assert Deployment.objects.filter(kind="rollback").count() == 1

    again = api.post(f"/api/devices/{devices[0].pk}/rollback")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "rollback_in_progress"


def test_rolling_back_an_empty_group_is_a_conflict_not_a_bad_request(api):
    # The request is valid; the group named in the path has no devices (its state).
    group = api.post("/api/groups", {"name": "Empty", "device_ids": []}, format="json").json()
    answer = api.post(f"/api/groups/{group['id']}/rollback")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "group_empty"
