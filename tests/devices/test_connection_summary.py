"""The summary /api/system/health shows: the user's devices, how many are online."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device
from devices.selectors import device_connection_summary

pytestmark = pytest.mark.django_db


def test_it_counts_live_devices_and_online_ones(alice, bob, issue_code, pair, settings):
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 90
    now = timezone.now()
    online = pair(issue_code(alice).code).device
    offline = pair(issue_code(alice).code).device
    unpaired = pair(issue_code(alice).code).device
    pair(issue_code(bob).code)
    Device.objects.filter(pk=online.pk).update(last_seen_at=now - timedelta(seconds=10))
    Device.objects.filter(pk=offline.pk).update(last_seen_at=now - timedelta(seconds=200))
    Device.objects.filter(pk=unpaired.pk).update(
        last_seen_at=now, deleted_at=now, registration_status="unpaired"
    )
    summary = device_connection_summary(user=alice)
    assert (summary["total"], summary["online"], summary["offline"]) == (2, 1, 1)
    assert summary["last_seen_at"] == Device.objects.get(pk=online.pk).last_seen_at


def test_the_health_endpoint_reports_it(alice_client, alice_device, agent_client):
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    devices = alice_client.get("/api/system/health").json()["devices"]
    assert (devices["total"], devices["online"]) == (1, 1)


def test_a_user_without_devices(alice):
    assert device_connection_summary(user=alice) == {
        "total": 0,
        "online": 0,
        "offline": 0,
        "last_seen_at": None,
    }
