"""The device pages: list, pair, detail, rename, revoke."""

import json
import re
import uuid
from html import unescape

import pytest

from devices import tunnel_registry
from devices.models import Device, DeviceToken, PairingCode

pytestmark = pytest.mark.django_db


def test_the_list_shows_devices_with_status(alice_client, alice_device, agent_client):
    page = alice_client.get("/devices/").content.decode()
    assert "Bench KL720" in page
    assert "Offline" in page
    assert "Never" in page
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    device_id, connection = str(alice_device.device.pk), uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        page = alice_client.get("/devices/").content.decode()
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
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
    assert _commands(page)["pair"] == f"visiona-agent pair --server http://testserver --code {code}"
    assert "devices-pair.js" in page
    data = json.loads(
        re.search(r'id="pairing-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["statusUrl"] == f"/api/devices/pairing-codes/{PairingCode.objects.get().public_id}"
    assert data["expiresAt"]


@pytest.fixture
def served_wheel(settings, tmp_path):
    settings.CLIENT_DOWNLOADS_DIR = tmp_path
    wheel = tmp_path / "visiona_client-1.2.3-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    return wheel


def _commands(page: str) -> dict[str, str]:
    found = re.findall(r'<code id="command-([\w-]+)">(.*?)</code>', page)
    return {name: unescape(re.sub(r"<[^>]+>", "", html)) for name, html in found}


def test_the_pair_page_shows_install_pair_and_run_each_with_a_copy_button(
    alice_client, served_wheel
):
    page = alice_client.post("/devices/pair/").content.decode()
    commands = _commands(page)
    server = "http://testserver"
    assert commands["install"] == f"pip install {server}/downloads/{served_wheel.name}"
    assert commands["pair"].startswith(f"visiona-agent pair --server {server} --code ")
    assert (
        commands["run"] == f"visiona-agent run --server {server} --local-url http://127.0.0.1:8765"
    )
    assert commands["demo-install"] == (
        f"pip install 'visiona-client[demo] @ {server}/downloads/{served_wheel.name}'"
    )
    assert commands["demo-pair"] == commands["pair"] + " --demo"
    assert commands["demo-run"] == f"visiona-agent run --server {server} --demo"
    for name in commands:
        assert f'data-copy="command-{name}"' in page
    # No inline script (the Content-Security-Policy has no 'unsafe-inline'): data only.
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attributes or "application/json" in attributes for attributes in scripts)
    assert " on" + "click=" not in page


def test_without_a_built_package_the_page_says_how_to_build_it(alice_client):
    page = alice_client.post("/devices/pair/").content.decode()
    assert "install" not in _commands(page)
    assert "python manage.py build_client" in page
    assert "pair" in _commands(page)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_help_text_has_no_swallowed_placeholder(alice_client, served_wheel, language):
    alice_client.cookies["django_language"] = language
    page = alice_client.post("/devices/pair/").content.decode()
    # Help text is text: a placeholder in angle brackets would vanish as an unknown tag.
    assert "<serial" not in page
    assert "--serial" in page and "--chip" in page


def test_the_pair_page_states_the_expiry_once(alice_client, settings):
    settings.DEVICE_PAIRING_CODE_TTL_MINUTES = 7
    page = alice_client.post("/devices/pair/").content.decode()
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    # In the code's card (the list of waiting codes below has an Expires column).
    card = text.split('id="live-codes"')[0]
    assert len(re.findall(r"[Ee]xpire", card)) == 1
    assert re.search(r'id="pairing-countdown">Expires in 7 min.<', text)


def test_the_pair_page_says_when_too_many_codes_wait(alice_client, settings):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 1
    alice_client.post("/devices/pair/")
    response = alice_client.post("/devices/pair/")
    assert response.status_code == 429
    page = response.content.decode()
    assert "You already have 1 pairing code waiting, the most you can have at once." in page
    # Nothing to press until one is revoked, used or expired, on the next visit too.
    for shown in (page, alice_client.get("/devices/pair/").content.decode()):
        assert re.search(r'<button type="submit" class="button button-primary" disabled', shown)
        assert "revoke one below to create another" in shown


def test_the_pair_page_offers_a_code_under_the_limit(alice_client, settings):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 2
    alice_client.post("/devices/pair/")
    page = alice_client.get("/devices/pair/").content.decode()
    assert re.search(r'<button type="submit" class="button button-primary">', page)
    assert "revoke one below to create another" not in page


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


def test_the_downloads_page_signs_in_as_the_tokens_page_does(alice_client, served_wheel):
    page = alice_client.get("/downloads/").content.decode()
    assert "<code>visiona login --server http://testserver</code>" in page  # no "/" after
    # Every signed-in page's user menu leads here.
    assert 'href="/downloads/" aria-current="page">Command-line tool and agent</a>' in page
    home = alice_client.get("/").content.decode()
    assert 'href="/downloads/">Command-line tool and agent</a>' in home
