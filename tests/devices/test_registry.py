"""What apps above devices register (devices/registry.py) runs where devices says:
the unpair's steps inside its transaction, the heartbeat's parts in its answer,
the page's sections without overwriting the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from rest_framework import serializers

from devices import registry, services
from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


def test_what_deployments_registers_is_there():
    # DeploymentsConfig.ready() fills the registry; devices names no app above it.
    assert "deployments" in registry._heartbeat_parts
    assert "deployments" in registry._unpair_steps
    assert "deployments" in registry._device_page_sections


def test_an_unpair_step_runs_inside_the_unpair_transaction(alice_device, monkeypatch):
    device = alice_device.device
    seen = []

    def step(*, device: Device) -> None:
        # Tokens already revoked, the device not yet unpaired, all in one transaction.
        seen.append(DeviceToken.objects.filter(device=device, revoked_at__isnull=True).count())
        seen.append(Device.objects.live().filter(pk=device.pk).exists())
        raise DatabaseError("a registered step failed")

    monkeypatch.setitem(registry._unpair_steps, "test", step)
    with pytest.raises(DatabaseError):
        services.device_unpair(device=device)
    assert seen == [0, True]
    assert Device.objects.live().filter(pk=device.pk).exists()
    assert DeviceToken.objects.filter(device=device, revoked_at__isnull=True).count() == 1


def test_a_heartbeat_part_adds_its_fields(alice_device, agent_client, monkeypatch):
    monkeypatch.setitem(
        registry._heartbeat_parts,
        "test",
        registry.HeartbeatPart(
            name="test",
            fields=lambda: {"answer": serializers.IntegerField()},
            values=lambda *, device: {"answer": 42 if device == alice_device.device else 0},
        ),
    )
    response = agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    assert response.status_code == 200
    assert response.json()["answer"] == 42
    assert response.json()["deployments"] == []


def test_a_section_may_not_replace_what_the_page_has(alice_client, alice_device, monkeypatch):
    monkeypatch.setitem(
        registry._device_page_sections,
        "test",
        registry.DevicePageSection(
            name="test",
            template="devices/_last_seen.html",
            context=lambda *, request, device: {"tokens": []},
            order=1,
        ),
    )
    with pytest.raises(ImproperlyConfigured, match="tokens"):
        alice_client.get(f"/devices/{alice_device.device.pk}/")
