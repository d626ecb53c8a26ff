"""Unpair removes the device and revokes all its tokens, in one transaction."""

import pytest
from django.db import DatabaseError

from devices import services
from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def device_with_two_tokens(alice_device):
    # A second token, as if the agent had been given another one.
    _extra, extra_token = services._device_token_issue(
        device=alice_device.device, now=alice_device.device_token.created_at
    )
    return alice_device.device, [alice_device.token, extra_token]


def test_after_unpair_every_token_is_refused(device_with_two_tokens, agent_client):
    device, tokens = device_with_two_tokens
    for token in tokens:
        assert agent_client(token).get("/api/agent/me").status_code == 200
    services.device_unpair(device=device)
    for token in tokens:
        response = agent_client(token).post("/api/agent/heartbeat", {}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "device_token_invalid"
    device.refresh_from_db()
    assert device.deleted_at is not None
    assert device.registration_status == "unpaired"
    assert not DeviceToken.objects.filter(revoked_at__isnull=True).exists()


def test_a_failure_in_the_middle_leaves_nothing_half_done(device_with_two_tokens, monkeypatch):
    device, _tokens = device_with_two_tokens

    def fail(**kwargs):
        raise DatabaseError("forced failure after the tokens were revoked")

    monkeypatch.setattr(services, "_device_mark_unpaired", fail)
    with pytest.raises(DatabaseError):
        services.device_unpair(device=device)
    assert Device.objects.live().filter(pk=device.pk).exists()
    assert DeviceToken.objects.filter(device=device, revoked_at__isnull=True).count() == 2


def test_the_api_unpairs(alice_client, alice_device, agent_client):
    response = alice_client.delete(f"/api/devices/{alice_device.device.pk}")
    assert response.status_code == 204
    assert not Device.objects.live().exists()
    assert agent_client(alice_device.token).get("/api/agent/me").status_code == 401
    again = alice_client.delete(f"/api/devices/{alice_device.device.pk}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "device_not_found"


def test_the_page_asks_then_unpairs(alice_client, alice_device):
    url = f"/devices/{alice_device.device.pk}/unpair/"
    page = alice_client.get(url)
    assert page.status_code == 200
    assert b"Unpair" in page.content
    assert Device.objects.live().exists()
    response = alice_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/devices/"
    assert not Device.objects.live().exists()
    assert alice_client.get(f"/devices/{alice_device.device.pk}/").status_code == 404
