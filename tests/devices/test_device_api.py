"""The signed-in user's devices API: list, detail, rename, revoke a token."""

import uuid

import pytest

from devices import tunnel_registry
from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


def test_the_list_shows_chip_connection_and_last_seen(alice_client, alice_device, agent_client):
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    device_id, connection = str(alice_device.device.pk), uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        body = alice_client.get("/api/devices/").json()
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
    assert body["online_threshold_seconds"] == 90
    [device] = body["devices"]
    assert device["id"] == str(alice_device.device.pk)
    assert device["chip"] == "KL720"
    assert device["connection_status"] == "online"
    assert device["connection_known_from"] == "tunnel"
    assert device["tunnel_connected_at"]
    assert device["registration_status"] == "paired"
    assert device["last_seen_at"]


def test_unpaired_devices_leave_the_list(alice_client, alice_device):
    alice_client.delete(f"/api/devices/{alice_device.device.pk}")
    assert alice_client.get("/api/devices/").json()["devices"] == []


def test_the_detail_lists_tokens_without_hashes(alice_client, alice_device):
    body = alice_client.get(f"/api/devices/{alice_device.device.pk}").json()
    [token] = body["tokens"]
    assert token["id"] == str(alice_device.device_token.public_id)
    assert token["status"] == "active"
    assert set(token) == {"id", "status", "created_at", "expires_at", "last_used_at", "revoked_at"}
    assert alice_device.device_token.token_hash not in str(body)


def test_rename(alice_client, alice_device):
    url = f"/api/devices/{alice_device.device.pk}"
    response = alice_client.patch(url, {"name": "  Lab  "}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == "Lab"
    assert Device.objects.get().name == "Lab"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_rename_validates(alice_client, alice_device, name):
    url = f"/api/devices/{alice_device.device.pk}"
    response = alice_client.patch(url, {"name": name}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def test_revoke_one_token(alice_client, alice_device, agent_client):
    device_token = alice_device.device_token
    url = f"/api/devices/{alice_device.device.pk}/tokens/{device_token.public_id}/revoke"
    response = alice_client.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert DeviceToken.objects.get().revoked_at is not None
    assert Device.objects.live().exists()
    assert agent_client(alice_device.token).get("/api/agent/me").status_code == 401


def test_an_unknown_device_is_404(alice_client):
    response = alice_client.get("/api/devices/00000000-0000-0000-0000-000000000001")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"
