"""What "online" means (a tunnel its relay holds; heartbeats only while the registry
cannot answer: devices/presence.py) and what the relay nodes write of it
(devices/liveness.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from devices import liveness, presence, services, tunnel_registry
from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db
NODE = "http://127.0.0.1:3801"


@pytest.fixture
def device(alice_device):
    return alice_device.device


@pytest.fixture
def alice_devices(alice, issue_code, pair):
    """``alice_devices(n)``: n more of Alice's devices (their PairingResults)."""
    counter = iter(range(1, 1000))

    def make(count: int):
        return [
            pair(issue_code(alice).code, serial=f"LIVE-{next(counter):03d}") for _ in range(count)
        ]

    return make


def connect(device) -> None:
    tunnel_registry.register(device_id=str(device.pk), node_url=NODE, connection_id="c1")


def test_a_device_with_a_tunnel_is_online_whatever_its_heartbeat(device, alice_client):
    Device.objects.filter(pk=device.pk).update(
        last_seen_at=timezone.now() - timedelta(hours=1),
        last_heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    listed = alice_client.get("/api/devices/").json()["devices"][0]
    assert listed["connection_status"] == "offline"

    connect(device)
    listed = alice_client.get("/api/devices/").json()["devices"][0]
    assert listed["connection_status"] == "online"
    # The durable column is an hour old; what the list shows is the registry's time.
    entry = tunnel_registry.lookup(str(device.pk))
    assert listed["last_seen_at"].replace("Z", "+00:00") == entry.refreshed_at.isoformat()
    detail = alice_client.get(f"/api/devices/{device.pk}").json()
    assert detail["connection_status"] == "online"
    page = alice_client.get("/devices/").content.decode()
    assert "status-online" in page


def test_without_a_tunnel_a_recent_heartbeat_is_offline(device, settings):
    # The registry answers: the tunnel decides (devices/presence.py), not the heartbeat.
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 90
    Device.objects.filter(pk=device.pk).update(last_heartbeat_at=timezone.now())
    fresh = Device.objects.get(pk=device.pk)
    answer = presence.presences(devices=[fresh])[str(device.pk)]
    assert fresh.heartbeat_is_recent()
    assert not answer.online and answer.known_from == "tunnel" and answer.tunnel is None
    assert answer.last_seen_at == fresh.last_seen_at


def test_a_registry_outage_lets_the_heartbeats_decide_not_an_error(
    device, alice_client, monkeypatch, settings
):
    def down(device_ids):
        raise ConnectionError("registry down")

    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 90
    connect(device)
    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    response = alice_client.get("/api/devices/")
    assert response.status_code == 200
    listed = response.json()["devices"][0]
    # Its tunnel is unknown and it never sent a heartbeat.
    assert (listed["connection_status"], listed["connection_known_from"]) == (
        "offline",
        "heartbeat",
    )
    Device.objects.filter(pk=device.pk).update(last_heartbeat_at=timezone.now())
    listed = alice_client.get("/api/devices/").json()["devices"][0]
    assert listed["connection_status"] == "online"
    Device.objects.filter(pk=device.pk).update(
        last_heartbeat_at=timezone.now() - timedelta(seconds=91)
    )
    listed = alice_client.get("/api/devices/").json()["devices"][0]
    assert listed["connection_status"] == "offline"


def test_the_heartbeat_answer_says_how_often_to_beat_beside_a_tunnel(
    alice_device, agent_client, settings
):
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 90
    settings.DEVICE_TUNNEL_HEARTBEAT_SECONDS = 1800
    body = agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json").json()
    assert body["heartbeat_interval_seconds"] == 30
    assert body["tunnel_heartbeat_interval_seconds"] == 1800
    assert body["tunnel_grace_seconds"] == 180
    device = Device.objects.get(pk=alice_device.device.pk)
    assert device.last_heartbeat_at == device.last_seen_at is not None


def test_the_relays_writes_touch_live_devices_only(alice_devices):
    live, unpaired = (result.device for result in alice_devices(2))
    services.device_unpair(device=unpaired)
    at = timezone.now()
    assert liveness.devices_mark_seen(device_ids=[str(live.pk), str(unpaired.pk)], at=at) == 1
    assert Device.objects.get(pk=live.pk).last_seen_at == at
    assert Device.objects.get(pk=unpaired.pk).last_seen_at is None


def test_a_dead_nodes_last_renewal_never_moves_last_seen_back(alice_devices):
    older, newer = (result.device for result in alice_devices(2))
    now = timezone.now()
    Device.objects.filter(pk=older.pk).update(last_seen_at=now - timedelta(minutes=10))
    Device.objects.filter(pk=newer.pk).update(last_seen_at=now + timedelta(minutes=10))
    ids = [str(older.pk), str(newer.pk)]
    assert liveness.devices_mark_last_alive(device_ids=ids, at=now) == 1
    assert Device.objects.get(pk=older.pk).last_seen_at == now
    assert Device.objects.get(pk=newer.pk).last_seen_at == now + timedelta(minutes=10)


def test_the_recheck_names_the_tokens_no_longer_usable(alice_devices):
    usable, revoked, unpaired, expired = alice_devices(4)
    services.device_token_revoke(device_token=revoked.device_token)
    services.device_unpair(device=unpaired.device)
    DeviceToken.objects.filter(pk=expired.device_token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    hashes = {r.device_token.pk for r in (usable, revoked, unpaired, expired)}
    assert liveness.device_tokens_unusable(token_hashes=hashes | {"not-a-hash"}) == {
        revoked.device_token.pk,
        unpaired.device_token.pk,
        expired.device_token.pk,
    }
    assert liveness.device_tokens_usable(token_hashes=hashes) == {
        usable.device_token.pk: str(usable.device.pk)
    }
