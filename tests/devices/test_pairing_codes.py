"""Pairing codes: easy to type, stored hashed, shown once, expiring, polled."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import credentials
from devices.models import PairingCode

pytestmark = pytest.mark.django_db

DISPLAYED_CODE = re.compile(r"^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$")


def test_it_makes_codes_without_look_alikes_grouped_4_4(alice, issue_code):
    codes = {issue_code(alice).code for _ in range(3)}
    assert all(DISPLAYED_CODE.match(code) for code in codes)
    assert not set("".join(codes)) & set("IL01O")


def test_it_stores_only_the_hash(alice, issue_code):
    issued = issue_code(alice)
    stored = PairingCode.objects.get()
    normalized = issued.code.replace("-", "")
    assert stored.code_hash == credentials.pairing_code_hash(normalized)
    assert normalized not in stored.code_hash


def test_the_code_hash_depends_on_the_secret_key(settings):
    before = credentials.pairing_code_hash("ABCDEFGH")
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    assert credentials.pairing_code_hash("ABCDEFGH") != before


def test_it_accepts_what_people_type(alice):
    assert credentials.pairing_code_normalize(" abcd-efgh ") == "ABCDEFGH"
    assert credentials.pairing_code_normalize("ABCD EFGH") == "ABCDEFGH"
    assert credentials.pairing_code_normalize("ABCD-EFG") is None
    assert credentials.pairing_code_normalize("ABCD-EFG0") is None


def test_it_expires_after_the_setting(alice, issue_code, settings):
    settings.DEVICE_PAIRING_CODE_TTL_MINUTES = 7
    issued = issue_code(alice)
    lifetime = issued.pairing_code.expires_at - issued.pairing_code.created_at
    assert timedelta(minutes=6, seconds=59) < lifetime <= timedelta(minutes=7)


def test_the_api_shows_the_code_once_with_expiry_and_command(alice_client):
    response = alice_client.post("/api/devices/pairing-codes")
    assert response.status_code == 201
    body = response.json()
    assert DISPLAYED_CODE.match(body["code"])
    assert body["status"] == "pending"
    assert body["expires_in_seconds"] == 600
    assert f"--code {body['code']}" in body["agent_command"]
    assert "--server http://testserver" in body["agent_command"]
    assert response["Cache-Control"] == "no-store"

    status = alice_client.get(f"/api/devices/pairing-codes/{body['id']}").json()
    assert status["status"] == "pending"
    assert "code" not in status
    assert body["code"] not in str(status)


def test_polling_reports_the_device_once_paired(alice, alice_client, issue_code, pair):
    issued = issue_code(alice)
    url = f"/api/devices/pairing-codes/{issued.pairing_code.public_id}"
    assert alice_client.get(url).json()["device"] is None
    result = pair(issued.code, name="Desk")
    body = alice_client.get(url).json()
    assert body["status"] == "used"
    assert body["device"] == {"id": str(result.device.pk), "name": "Desk", "chip": "KL720"}


def test_polling_reports_expiry(alice, alice_client, issue_code):
    issued = issue_code(alice)
    PairingCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    url = f"/api/devices/pairing-codes/{issued.pairing_code.public_id}"
    assert alice_client.get(url).json()["status"] == "expired"


def test_a_user_holds_a_limited_number_of_waiting_codes(alice_client, settings):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 2
    assert alice_client.post("/api/devices/pairing-codes").status_code == 201
    assert alice_client.post("/api/devices/pairing-codes").status_code == 201
    response = alice_client.post("/api/devices/pairing-codes")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "too_many_pairing_codes"
    assert error["message"].startswith("You already have 2 pairing codes waiting, the most")
    assert error["details"] == {"limit": 2}
    PairingCode.objects.update(expires_at=timezone.now())
    assert alice_client.post("/api/devices/pairing-codes").status_code == 201
