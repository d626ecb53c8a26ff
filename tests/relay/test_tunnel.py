"""Requests through the relay's internal port reach the demo device behind the tunnel."""

from __future__ import annotations

import pytest

from devices import services
from devices.models import DeviceToken
from tests.relay.conftest import RECHECK_BACKSTOP_SECONDS, agent_log, wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_request_reaches_the_demo_device(relay, connected_agent):
    response = relay.get(
        f"/devices/{connected_agent.device_id}/api/system/deps",
        headers={"X-Request-Id": "req-123"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["demo"] is True
    assert body["dongles"][0]["serial"] == connected_agent.device.serial
    assert response.headers["X-Visiona-Demo"] == "1"
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_the_registry_names_this_node(relay, connected_agent):
    from devices import tunnel_registry

    entry = tunnel_registry.lookup(connected_agent.device_id)
    assert entry.node_url == relay.internal_url
    session = wait_connected(relay, connected_agent.device_id)
    assert entry.connection_id == session["connection_id"]


def test_one_client_connection_carries_request_after_request(relay, connected_agent, settings):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", relay.internal_port, timeout=10)
    headers = {"X-Relay-Secret": settings.RELAY_INTERNAL_SECRET}
    try:
        for path in ["/sessions", f"/devices/{connected_agent.device_id}/api/system/deps"] * 3:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            assert response.status == 200
            response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_a_wrong_or_missing_secret_gets_a_bare_401(relay, connected_agent, secret):
    for path in (f"/devices/{connected_agent.device_id}/api/system/deps", "/sessions"):
        response = relay.get(path, secret=secret)
        assert response.status_code == 401
        assert response.content == b""


def test_an_unknown_device_is_offline_at_once(relay, db):
    response = relay.get("/devices/7b0f7c1e-0000-4000-8000-000000000000/api/system/deps")
    # At once, not after waiting for it: a wait would end in the head deadline's 504.
    assert response.status_code == 503
    assert response.headers["X-Relay-Error"] == "device_offline"
    error = response.json()["error"]
    assert error["code"] == "device_offline"
    assert set(error) == {"code", "message", "details", "request_id"}


def test_revoking_the_token_closes_the_tunnel_and_stops_the_agent(relay, connected_agent):
    services.device_token_revoke(
        device_token=DeviceToken.objects.get(device=connected_agent.device)
    )
    wait_for(lambda: not relay.sessions(), timeout=RECHECK_BACKSTOP_SECONDS)
    returncode = wait_for(lambda: connected_agent.process.poll(), timeout=15)
    assert returncode == 3
    assert "visionA refused this device's token" in agent_log(connected_agent.process)


def test_neither_process_logs_the_device_token(relay, connected_agent):
    import json

    token = json.loads((connected_agent.state_dir / "state.json").read_text())["token"]
    assert relay.get(f"/devices/{connected_agent.device_id}/api/system/deps").status_code == 200
    relay_output, agent_output = relay.output(), agent_log(connected_agent.process)
    assert "tunnel open" in relay_output  # it did log, at DEBUG
    assert "tunnel open" in agent_output
    for output in (relay_output, agent_output):
        assert token not in output
        assert token[4:] not in output
