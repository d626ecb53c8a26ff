"""After pairing, neither the plain code nor the plain token is anywhere:
not in the database, the admin, the logs, or any later answer."""

import logging

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from devices.models import Device, DeviceToken, PairingCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def paired(alice_client, agent_client, caplog):
    caplog.set_level(logging.DEBUG)
    created = alice_client.post("/api/devices/pairing-codes").json()
    code = created["code"]
    body = {"code": code, "serial": "SECRET-1", "chip": "KL630", "name": "Cam"}
    answer = agent_client().post("/api/agent/pair", body, format="json").json()
    token = answer["token"]
    agent_client(token).post("/api/agent/heartbeat", {}, format="json")
    agent_client(token).get("/api/agent/me")
    # Failed attempts are logged too: they must not echo what was sent.
    agent_client().post("/api/agent/pair", body, format="json")
    agent_client("vad_" + token[4:][::-1]).get("/api/agent/me")
    return {"code": code, "token": token, "code_id": created["id"]}


def _secrets(paired) -> list[str]:
    code, token = paired["code"], paired["token"]
    return [code, code.replace("-", ""), token, token.removeprefix("vad_")]


def _assert_absent(text: str, paired, where: str) -> None:
    for secret in _secrets(paired):
        assert secret not in text, f"a plain secret appears in {where}"


def test_not_in_any_database_column(paired):
    rows = []
    for model in (Device, PairingCode, DeviceToken):
        rows += [str(row) for row in model.objects.values_list()]
    assert len(rows) == 3
    _assert_absent("\n".join(rows), paired, "the database")


def test_not_in_the_admin(paired, client, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    pages = [
        reverse(f"admin:devices_{name}_changelist")
        for name in ("device", "pairingcode", "devicetoken")
    ]
    pages += [
        reverse("admin:devices_device_change", args=[quote(Device.objects.get().pk)]),
        reverse("admin:devices_pairingcode_change", args=[quote(PairingCode.objects.get().pk)]),
        reverse("admin:devices_devicetoken_change", args=[quote(DeviceToken.objects.get().pk)]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        _assert_absent(response.content.decode(), paired, page)
    # The hashes are what the admin shows.
    token_page = client.get(pages[-1]).content.decode()
    assert DeviceToken.objects.get().token_hash in token_page


def test_not_in_the_logs(paired, caplog):
    # The pairing ran in the fixture: its records belong to the setup phase.
    records = caplog.get_records("setup")
    assert any(record.getMessage() == "device paired" for record in records)
    assert any(record.getMessage() == "pairing refused: invalid code" for record in records)
    text = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)
    _assert_absent(text, paired, "the logs")


def test_not_in_later_answers(paired, alice_client, agent_client):
    device = Device.objects.get()
    answers = [
        alice_client.get("/api/devices/"),
        alice_client.get(f"/api/devices/{device.pk}"),
        alice_client.get(f"/api/devices/pairing-codes/{paired['code_id']}"),
        alice_client.get("/api/system/health"),
        alice_client.get("/devices/"),
        alice_client.get(f"/devices/{device.pk}/"),
        agent_client(paired["token"]).get("/api/agent/me"),
        agent_client(paired["token"]).post("/api/agent/heartbeat", {}, format="json"),
    ]
    for response in answers:
        assert response.status_code == 200
        _assert_absent(response.content.decode(), paired, response.wsgi_request.path)
