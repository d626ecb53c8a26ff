"""The agent API: heartbeats record the agent's status and last sign of life (online is
its tunnel's: devices/presence.py); only a usable device token gets in."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import services, tunnel_registry
from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


def test_a_heartbeat_records_last_seen_status_and_version(alice_device, agent_client):
    response = agent_client(alice_device.token).post(
        "/api/agent/heartbeat", {"status": "busy", "agent_version": "2.0.0"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    # Its tunnel is not open: the answer says what the pages say.
    assert body["connection_status"] == "offline"
    assert body["heartbeat_interval_seconds"] == 30
    device = Device.objects.get()
    assert body["last_seen_at"] is not None
    assert (device.agent_status, device.agent_version) == ("busy", "2.0.0")
    assert timezone.now() - device.last_seen_at < timedelta(seconds=5)


def test_the_heartbeats_answer_reads_online_while_the_tunnel_is_open(alice_device, agent_client):
    device_id, connection = str(alice_device.device.pk), uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        response = agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
    assert response.json()["connection_status"] == "online"


def test_a_heartbeat_counts_until_the_threshold(alice_device, agent_client, settings, monkeypatch):
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 60
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    device = Device.objects.get()
    beat = device.last_heartbeat_at
    assert device.heartbeat_is_recent(now=beat + timedelta(seconds=60))
    assert not device.heartbeat_is_recent(now=beat + timedelta(seconds=61))

    # It decides only while the registry cannot answer.
    def down(device_ids):
        raise ConnectionError("registry down")

    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    assert device.connection_status() == "online"
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 10
    Device.objects.update(last_heartbeat_at=timezone.now() - timedelta(seconds=11))
    assert Device.objects.get().connection_status() == "offline"


def test_a_paired_device_is_offline_until_its_first_heartbeat(alice_device):
    assert alice_device.device.connection_status() == "offline"


def test_me_describes_the_device(alice_device, agent_client):
    body = agent_client(alice_device.token).get("/api/agent/me").json()
    assert body["device_id"] == str(alice_device.device.pk)
    assert body["serial"] == "ALICE-0001"
    assert body["registration_status"] == "paired"
    assert body["connection_status"] == "offline"
    assert "token" not in body
    assert "token_expires_at" in body


def test_it_rejects_a_bad_status(alice_device, agent_client):
    response = agent_client(alice_device.token).post(
        "/api/agent/heartbeat", {"status": "<script>"}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer vad_notarealtoken",
        "Bearer not-even-the-prefix",
        "Bearer a b",
        "Token vad_x",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"), [("get", "/api/agent/me"), ("post", "/api/agent/heartbeat")]
)
def test_it_refuses_missing_and_wrong_tokens(agent_client, authorization, method, path):
    client = agent_client()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"unauthenticated", "device_token_invalid"}


def test_it_refuses_a_revoked_token(alice_device, agent_client):
    services.device_token_revoke(device_token=alice_device.device_token)
    response = agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "device_token_invalid"
    assert Device.objects.get().last_seen_at is None


def test_it_refuses_an_expired_token(alice_device, agent_client):
    DeviceToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert agent_client(alice_device.token).get("/api/agent/me").status_code == 401


def test_a_signed_in_user_is_not_an_agent(alice_device, alice_client):
    assert alice_client.get("/api/agent/me").status_code == 401
    assert alice_client.post("/api/agent/heartbeat").status_code == 401


def test_it_records_when_a_token_was_last_used(alice_device, agent_client):
    assert alice_device.device_token.last_used_at is None
    agent_client(alice_device.token).get("/api/agent/me")
    assert DeviceToken.objects.get().last_used_at is not None


def test_a_device_token_does_not_open_the_user_api(alice_device, agent_client):
    assert agent_client(alice_device.token).get("/api/devices/").status_code == 401


def test_heartbeat_and_me_tell_the_agent_where_to_dial(alice_device, agent_client, settings):
    settings.RELAY_PUBLIC_URL = "wss://relay.example.com/tunnel"
    client = agent_client(alice_device.token)
    beat = client.post("/api/agent/heartbeat", {}, format="json").json()
    me = client.get("/api/agent/me").json()
    assert beat["tunnel_url"] == me["tunnel_url"] == "wss://relay.example.com/tunnel"
