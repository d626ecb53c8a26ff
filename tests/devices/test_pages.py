"""The device pages: list, pair, detail, rename, revoke."""

import json
import re

import pytest

from devices.models import Device, DeviceToken, PairingCode

pytestmark = pytest.mark.django_db


def test_the_list_shows_devices_with_status(alice_client, alice_device, agent_client):
    page = alice_client.get("/devices/").content.decode()
    assert "Bench KL720" in page
    assert "Offline" in page
    assert "Never" in page
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    page = alice_client.get("/devices/").content.decode()
    assert "Online" in page
    assert 'aria-current="page"' in page


def test_the_empty_list_invites_to_pair(alice_client):
    page = alice_client.get("/devices/").content.decode()
    assert "No devices yet" in page
    assert 'href="/devices/pair/"' in page


def test_the_pair_page_makes_a_code_on_post_only(alice_client):
    page = alice_client.get("/devices/pair/")
    assert page.status_code == 200
    assert not PairingCode.objects.exists()
    assert b"devices-pair.js" not in page.content

    response = alice_client.post("/devices/pair/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    code = re.search(r'id="pairing-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', page).group(1)
    assert f"run_agent --server http://testserver --code {code} --serial &lt;serial&gt;" in page
    assert "devices-pair.js" in page
    data = json.loads(
        re.search(r'id="pairing-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["statusUrl"] == f"/api/devices/pairing-codes/{PairingCode.objects.get().public_id}"
    assert data["expiresAt"]


def test_the_pair_page_says_when_too_many_codes_wait(alice_client, settings):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 1
    alice_client.post("/devices/pair/")
    response = alice_client.post("/devices/pair/")
    assert response.status_code == 429
    assert b"several pairing codes" in response.content


def test_the_detail_page_shows_tokens_with_a_revoke_button(alice_client, alice_device):
    page = alice_client.get(f"/devices/{alice_device.device.pk}/").content.decode()
    assert "ALICE-0001" in page
    revoke = (
        f"/devices/{alice_device.device.pk}/tokens/{alice_device.device_token.public_id}/revoke/"
    )
    assert f'action="{revoke}"' in page
    assert alice_client.post(revoke).status_code == 302
    assert DeviceToken.objects.get().revoked_at is not None
    page = alice_client.get(f"/devices/{alice_device.device.pk}/").content.decode()
    assert "Revoked" in page
    assert f'action="{revoke}"' not in page


def test_revoking_needs_post(alice_client, alice_device):
    url = f"/devices/{alice_device.device.pk}/tokens/{alice_device.device_token.public_id}/revoke/"
    assert alice_client.get(url).status_code == 405
    assert DeviceToken.objects.get().revoked_at is None


def test_rename_form(alice_client, alice_device):
    url = f"/devices/{alice_device.device.pk}/rename/"
    assert b'value="Bench KL720"' in alice_client.get(url).content
    invalid = alice_client.post(url, {"name": ""})
    assert invalid.status_code == 200
    assert b"field-error" in invalid.content
    response = alice_client.post(url, {"name": "Lab box"})
    assert response["Location"] == f"/devices/{alice_device.device.pk}/"
    assert Device.objects.get().name == "Lab box"


def test_home_links_to_devices(alice_client):
    assert b'href="/devices/"' in alice_client.get("/").content
