"""The summary /api/system/health shows: the user's devices, how many are online
(their tunnels decide; heartbeats only when the registry cannot answer)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import presence, tunnel_registry
from devices.models import Device
from devices.selectors import device_connection_summary

pytestmark = pytest.mark.django_db
NODE = "http://127.0.0.1:3801"


def test_it_counts_live_devices_and_online_ones(alice, bob, issue_code, pair, settings):
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 90
    now = timezone.now()
    beating = pair(issue_code(alice).code).device
    tunnelled = pair(issue_code(alice).code).device
    offline = pair(issue_code(alice).code).device
    unpaired = pair(issue_code(alice).code).device
    pair(issue_code(bob).code)
    Device.objects.filter(pk=beating.pk).update(
        last_seen_at=now - timedelta(seconds=10), last_heartbeat_at=now - timedelta(seconds=10)
    )
    # Online by its tunnel, though its last durable write is older than the threshold.
    Device.objects.filter(pk=tunnelled.pk).update(last_seen_at=now - timedelta(seconds=500))
    tunnel_registry.register(device_id=str(tunnelled.pk), node_url=NODE, connection_id="c1")
    Device.objects.filter(pk=offline.pk).update(
        last_seen_at=now - timedelta(seconds=200), last_heartbeat_at=now - timedelta(seconds=200)
    )
    Device.objects.filter(pk=unpaired.pk).update(
        last_seen_at=now, last_heartbeat_at=now, deleted_at=now, registration_status="unpaired"
    )
    # The registry answers: only the tunnel counts, whatever the heartbeat.
    registrations, summary = presence.user_overview(user=alice)
    assert set(registrations) == {str(tunnelled.pk)}
    assert summary == device_connection_summary(user=alice, registrations=registrations)
    assert (summary["total"], summary["online"], summary["offline"]) == (3, 1, 2)
    # The latest sign of life: the tunnel's, vouched for by its relay node just now.
    assert summary["last_seen_at"] == tunnel_registry.lookup(str(tunnelled.pk)).refreshed_at
    summary = device_connection_summary(user=alice, registrations={})
    assert (summary["total"], summary["online"], summary["offline"]) == (3, 0, 3)
    # The registry could not answer: the heartbeats decide.
    summary = device_connection_summary(user=alice, registrations=None)
    assert (summary["total"], summary["online"], summary["offline"]) == (3, 1, 2)
    assert summary["last_seen_at"] == Device.objects.get(pk=beating.pk).last_seen_at
    Device.objects.filter(pk=beating.pk).update(last_heartbeat_at=now - timedelta(seconds=91))
    summary = device_connection_summary(user=alice, registrations=None)
    assert (summary["total"], summary["online"], summary["offline"]) == (3, 0, 3)


def test_the_health_endpoint_reports_it(alice_client, alice_device, agent_client):
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    devices = alice_client.get("/api/system/health").json()["devices"]
    assert (devices["total"], devices["online"]) == (1, 0)  # beating, but no tunnel
    device_id, connection = str(alice_device.device.pk), uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        devices = alice_client.get("/api/system/health").json()["devices"]
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
    assert (devices["total"], devices["online"]) == (1, 1)


def test_a_user_without_devices(alice):
    assert device_connection_summary(user=alice, registrations={}) == {
        "total": 0,
        "online": 0,
        "offline": 0,
        "last_seen_at": None,
    }
