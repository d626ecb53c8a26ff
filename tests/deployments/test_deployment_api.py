"""The user's deployments API: create, list with filters, retrieve with events, cancel.

Owner only: another user's deployment, model or device is 404; signed out, 401.
"""

from __future__ import annotations

import uuid

import pytest

from deployments import services
from deployments.models import Deployment
from devices.choices import Chip

pytestmark = pytest.mark.django_db


def create(api, model, devices):
    return api.post(
        "/api/deployments",
        {"model_id": model.pk, "device_ids": [str(d.device.pk) for d in devices]},
        format="json",
    )


def test_create_for_several_devices(api, alice_kl720, alice_devices):
    devices = alice_devices(2)
    response = create(api, alice_kl720, devices)
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["device_id"] for r in results] == [str(d.device.pk) for d in devices]
    assert {r["outcome"] for r in results} == {"created"}
    deployment = results[0]["deployment"]
    assert set(deployment) == {
        "id",
        "state",
        "kind",
        "rolls_back",
        "restored_from",
        "rollout",
        "model",
        "device",
        "bytes_done",
        "bytes_total",
        "error_code",
        "error_message",
        "failure",
        "created_at",
        "updated_at",
        "finished_at",
    }
    assert deployment["failure"] is None
    assert deployment["model"] == {
        "id": alice_kl720.pk,
        "name": "detector",
        "sha256": alice_kl720.sha256,
        "size_bytes": alice_kl720.size_bytes,
    }
    assert deployment["device"]["chip"] == "KL720"
    assert deployment["state"] == "pending"


def test_a_chip_mismatch_is_400_and_nothing_is_created(api, alice_kl720, alice_devices):
    good = alice_devices(1)
    wrong = alice_devices(1, chip=Chip.KL630)
    response = create(api, alice_kl720, [*good, *wrong])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "chip_mismatch"
    assert error["details"]["devices"] == [
        {"id": str(wrong[0].device.pk), "name": wrong[0].device.name, "chip": "KL630"}
    ]
    assert error["details"]["model_chips"] == ["KL720"]
    assert not Deployment.objects.exists()


def test_already_installed_and_already_in_progress(api, alice_kl720, alice_device):
    first = create(api, alice_kl720, [alice_device]).json()["results"][0]
    again = create(api, alice_kl720, [alice_device]).json()["results"][0]
    assert again["outcome"] == "already_in_progress"
    assert again["deployment"]["id"] == first["deployment"]["id"]
    for state in ("downloading", "verifying", "installed"):
        services.deployment_report(
            device=alice_device.device, deployment_id=first["deployment"]["id"], state=state
        )
    installed = create(api, alice_kl720, [alice_device])
    assert installed.status_code == 201
    result = installed.json()["results"][0]
    assert result["outcome"] == "already_installed"
    assert result["deployment"]["state"] == "installed"
    assert Deployment.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"model_id": 1},
        {"model_id": 1, "device_ids": []},
        {"model_id": "x", "device_ids": [str(uuid.uuid4())]},
        {"model_id": 1, "device_ids": ["not-a-uuid"]},
        {"model_id": 1, "device_ids": [str(uuid.uuid4()) for _ in range(51)]},
    ],
)
def test_bad_input_is_400(api, data):
    response = api.post("/api/deployments", data, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def test_another_users_model_or_device_is_404(
    api, bob_api, alice_kl720, alice_device, bob, make_model, issue_code, pair
):
    bobs_device = pair(issue_code(bob).code, serial="BOB-1")
    bobs_model = make_model(bob, chips=("KL720",))
    response = create(bob_api, alice_kl720, [bobs_device])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    response = create(api, alice_kl720, [alice_device, bobs_device])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"
    assert create(api, bobs_model, [alice_device]).status_code == 404
    assert not Deployment.objects.exists()


def test_the_list_is_newest_first_filtered_and_only_mine(
    api, bob_api, alice, alice_kl720, make_model, alice_devices
):
    one, two = alice_devices(2)
    other_model = make_model(alice, chips=("KL720",))
    first = create(api, alice_kl720, [one, two]).json()["results"]
    latest = create(api, other_model, [one]).json()["results"][0]["deployment"]
    services.deployment_cancel(user=alice, deployment_id=first[1]["deployment"]["id"])
    listed = api.get("/api/deployments").json()
    assert listed["count"] == 3
    assert listed["results"][0]["id"] == latest["id"]
    by_device = api.get(f"/api/deployments?device={two.device.pk}").json()["results"]
    assert [d["id"] for d in by_device] == [first[1]["deployment"]["id"]]
    by_model = api.get(f"/api/deployments?model={alice_kl720.pk}").json()["results"]
    assert {d["id"] for d in by_model} == {r["deployment"]["id"] for r in first}
    cancelled = api.get("/api/deployments?state=cancelled").json()["results"]
    assert [d["state"] for d in cancelled] == ["cancelled"]
    assert api.get("/api/deployments?state=nope").status_code == 400
    assert api.get("/api/deployments?device=nope").status_code == 400
    assert api.get("/api/deployments?device=").status_code == 400
    assert api.get("/api/deployments?model=").status_code == 400
    assert api.get("/api/deployments?state=").json()["count"] == 3
    assert bob_api.get("/api/deployments").json()["count"] == 0
    assert api.get("/api/deployments?page_size=1").json()["next"]


def test_retrieve_with_events_owner_only(api, bob_api, alice_kl720, alice_device):
    deployment = create(api, alice_kl720, [alice_device]).json()["results"][0]["deployment"]
    services.deployment_report(
        device=alice_device.device,
        deployment_id=deployment["id"],
        state="failed",
        error_code="download_failed",
        error_message="Gave up after 5 tries.",
    )
    response = api.get(f"/api/deployments/{deployment['id']}")
    assert response.status_code == 200
    events = response.json()["events"]
    assert [e["state"] for e in events] == ["pending", "failed"]
    assert events[1]["error_code"] == "download_failed"
    assert set(events[0]) == {"state", "at", "bytes_done", "error_code", "error_message"}
    missing = bob_api.get(f"/api/deployments/{deployment['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "deployment_not_found"
    assert api.get(f"/api/deployments/{uuid.uuid4()}").status_code == 404


def test_cancel_owner_only_and_once(api, bob_api, alice_kl720, alice_device):
    deployment = create(api, alice_kl720, [alice_device]).json()["results"][0]["deployment"]
    url = f"/api/deployments/{deployment['id']}/cancel"
    assert bob_api.post(url).status_code == 404
    response = api.post(url)
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["finished_at"]
    again = api.post(url)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "deployment_finished"


def test_signed_out_is_401_everywhere(client, alice_kl720, alice_device):
    deployment = services.deployments_create(
        user=alice_device.device.owner, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment
    for method, url in [
        ("get", "/api/deployments"),
        ("post", "/api/deployments"),
        ("get", f"/api/deployments/{deployment.pk}"),
        ("post", f"/api/deployments/{deployment.pk}/cancel"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "unauthenticated"
    deployment.refresh_from_db()
    assert deployment.state == "pending"
