"""Expected outcomes of a relayed request log at INFO or WARNING, never at ERROR.

A device switched off, unreachable or slow, a cap reached, or a device's own 5xx is
not a bug of ours: Django's request logger (which logs every 5xx at ERROR) is told
it was logged already, and the API's handler logs a WARNING with the code.
"""

from __future__ import annotations

import logging
import uuid

import pytest
import responses

from devices import relay_slots, tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"


@pytest.fixture
def device(alice_device):
    return alice_device.device


def register(device) -> None:
    tunnel_registry.register(
        device_id=str(device.pk), node_url=NODE, connection_id=uuid.uuid4().hex
    )


def url(device) -> str:
    return f"/api/devices/{device.pk}/agent/api/x"


def errors_logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_an_offline_device_is_a_warning(alice_client, device, caplog):
    with caplog.at_level(logging.INFO):
        assert alice_client.get(url(device)).status_code == 503
    assert errors_logged(caplog) == []
    assert any(
        record.levelno == logging.WARNING and "device_offline" in record.getMessage()
        for record in caplog.records
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [(502, "device_unreachable"), (504, "device_timeout"), (502, "device_bad_answer")],
)
def test_the_relays_errors_are_warnings(alice_client, device, caplog, status, code):
    register(device)
    with responses.RequestsMock() as node, caplog.at_level(logging.INFO):
        node.get(
            f"{NODE}/devices/{device.pk}/api/x",
            status=status,
            json={},
            headers={"X-Relay-Error": code},
        )
        assert alice_client.get(url(device)).status_code == status
    assert errors_logged(caplog) == []


def test_a_devices_own_500_is_not_our_error(alice_client, device, caplog):
    register(device)
    with responses.RequestsMock() as node, caplog.at_level(logging.INFO):
        node.get(f"{NODE}/devices/{device.pk}/api/x", status=500, body=b"device broke")
        response = alice_client.get(url(device))
        assert response.status_code == 500
        assert b"".join(response.streaming_content) == b"device broke"
    assert errors_logged(caplog) == []


def test_a_cap_reached_is_info(alice_client, alice, device, caplog, settings):
    register(device)
    settings.RELAY_MAX_EXCHANGES_PER_DEVICE = 1
    relay_slots.slot_acquire(user_id=alice.pk, device_id=str(device.pk))
    with caplog.at_level(logging.INFO):
        assert alice_client.get(url(device)).status_code == 429
    assert errors_logged(caplog) == []
    assert [r.levelno for r in caplog.records if "cap" in r.getMessage()] == [logging.INFO]
