"""The agent's exchange: code + serial + chip for a device and a token, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device, DeviceToken, PairingCode

pytestmark = pytest.mark.django_db


def _pair(agent_client, code, serial="SN-1", chip="KL720", **extra):
    body = {"code": code, "serial": serial, "chip": chip, **extra}
    return agent_client().post("/api/agent/pair", body, format="json")


def test_it_pairs_a_device_and_hands_out_a_token_once(alice, issue_code, agent_client):
    code = issue_code(alice).code
    response = _pair(agent_client, code, name="Lab box", agent_version="1.2.3")
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("vad_")
    assert response["Cache-Control"] == "no-store"
    device = Device.objects.get()
    assert str(device.pk) == body["device_id"]
    assert (device.owner, device.serial, device.chip) == (alice, "SN-1", "KL720")
    assert (device.name, device.agent_version) == ("Lab box", "1.2.3")
    assert device.registration_status == "paired"
    assert device.last_seen_at is None
    assert DeviceToken.objects.get().device == device
    assert PairingCode.objects.get().used_at is not None


def test_the_name_defaults_to_the_serial(alice, issue_code, agent_client):
    _pair(agent_client, issue_code(alice).code.lower(), serial="KL-77")
    assert Device.objects.get().name == "KL-77"


def test_a_used_code_is_refused(alice, issue_code, agent_client):
    code = issue_code(alice).code
    assert _pair(agent_client, code, serial="SN-1").status_code == 201
    response = _pair(agent_client, code, serial="SN-2")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "pairing_code_invalid"
    assert Device.objects.count() == 1
    assert DeviceToken.objects.count() == 1


def test_an_expired_code_is_refused(alice, issue_code, agent_client):
    code = issue_code(alice).code
    PairingCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _pair(agent_client, code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "pairing_code_invalid"
    assert not Device.objects.exists()


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ", "ABC", "ABCD-EFG1", ""])
def test_a_wrong_code_is_refused_the_same_way(alice, issue_code, agent_client, code):
    issue_code(alice)
    response = _pair(agent_client, code)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"pairing_code_invalid", "validation_failed"}
    assert not Device.objects.exists()


def test_wrong_expired_and_used_codes_get_one_answer(alice, issue_code, agent_client):
    used = issue_code(alice).code
    _pair(agent_client, used, serial="SN-1")
    expired = issue_code(alice).code
    PairingCode.objects.filter(used_at__isnull=True).update(expires_at=timezone.now())
    answers = [
        _pair(agent_client, code, serial="SN-9").json()["error"]
        for code in (used, expired, "ZZZZ-ZZZZ")
    ]
    assert len({(a["code"], a["message"]) for a in answers}) == 1


@pytest.mark.parametrize(
    ("field", "value"), [("chip", "KL999"), ("serial", ""), ("serial", "bad serial!")]
)
def test_it_validates_the_device_fields(alice, issue_code, agent_client, field, value):
    body = {"code": issue_code(alice).code, "serial": "SN-1", "chip": "KL520", field: value}
    response = agent_client().post("/api/agent/pair", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert PairingCode.objects.get().used_at is None


@pytest.mark.parametrize("chip", ["KL520", "KL720", "KL530", "KL630", "KL730"])
def test_it_knows_every_chip(alice, issue_code, agent_client, chip):
    assert _pair(agent_client, issue_code(alice).code, chip=chip).status_code == 201
