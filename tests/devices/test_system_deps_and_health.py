"""GET /api/system/deps through the tunnel, and the tunnel in GET /api/system/health."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
import responses

from devices import tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"


@pytest.fixture
def node():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def connect(device, node_url: str = NODE) -> None:
    tunnel_registry.register(
        device_id=str(device.pk), node_url=node_url, connection_id=uuid.uuid4().hex
    )


def deps_url(device) -> str:
    return f"{NODE}/devices/{device.pk}/api/system/deps"


@pytest.fixture
def two_devices(alice, issue_code, pair):
    first = pair(issue_code(alice).code, serial="ALICE-A", name="A").device
    second = pair(issue_code(alice).code, serial="ALICE-B", name="B").device
    return first, second


def test_deps_comes_from_the_users_connected_device(alice_client, two_devices, node):
    _first, second = two_devices
    connect(second)
    node.get(deps_url(second), json={"driver": {"version": "1.3.0"}})
    response = alice_client.get("/api/system/deps")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b'{"driver": {"version": "1.3.0"}}'
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_deps_takes_the_most_recently_connected_device(alice_client, two_devices, node):
    first, second = two_devices
    connect(first)
    first_at = tunnel_registry.lookup(str(first.pk)).connected_at
    while tunnel_registry._now() <= first_at:  # the clock's next tick, not a fixed sleep
        pass
    connect(second)
    node.get(deps_url(second), json={"which": "second"})
    assert b"second" in b"".join(alice_client.get("/api/system/deps").streaming_content)


def test_device_picks_one_and_is_not_forwarded(alice_client, two_devices, node):
    first, second = two_devices
    connect(first)
    connect(second)
    node.get(deps_url(first), json={"which": "first"})
    response = alice_client.get(f"/api/system/deps?device={first.pk}&detail=full")
    assert b"first" in b"".join(response.streaming_content)
    assert node.calls[0].request.url == deps_url(first) + "?detail=full"


def test_deps_of_another_users_device_is_not_found(bob_client, two_devices, node):
    connect(two_devices[0])
    response = bob_client.get(f"/api/system/deps?device={two_devices[0].pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"


def test_deps_without_a_connected_device_is_offline(alice_client, bob, two_devices, node):
    response = alice_client.get("/api/system/deps")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "device_offline"
    response = alice_client.get(f"/api/system/deps?device={two_devices[0].pk}")
    assert response.json()["error"]["code"] == "device_offline"
    assert len(node.calls) == 0


def test_deps_refuses_a_device_that_is_not_an_id(alice_client):
    response = alice_client.get("/api/system/deps?device=nope")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "device"


# Committed: the registry is read from a worker thread (its own database connection).
@pytest.mark.django_db(transaction=True)
def test_health_reports_the_users_tunnels(alice_client, bob, two_devices, issue_code, pair):
    body = alice_client.get("/api/system/health").json()
    assert body["tunnel_connected"] is False
    assert body["agent_session_count"] == 0
    connect(two_devices[0])
    connect(pair(issue_code(bob).code, serial="BOB-1").device)  # not Alice's
    body = alice_client.get("/api/system/health").json()
    assert body["tunnel_connected"] is True
    assert body["agent_session_count"] == 1
    assert body["agent_last_seen_at"] is not None


def test_health_without_devices_does_not_ask_the_registry(alice_client, monkeypatch):
    monkeypatch.setattr(tunnel_registry, "lookup_many", lambda ids: pytest.fail("asked"))
    body = alice_client.get("/api/system/health").json()
    assert body["tunnel_connected"] is False
    assert body["agent_last_seen_at"] is None


def test_a_failing_registry_is_not_fatal(alice_client, two_devices, monkeypatch, caplog):
    def down(device_ids):
        raise ConnectionError("registry down")

    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    with caplog.at_level(logging.WARNING, logger="devices.tunnel"):
        response = alice_client.get("/api/system/health")
    assert response.status_code == 200
    assert response.json()["tunnel_connected"] is False
    assert "tunnel registry unavailable" in caplog.text


def test_a_hanging_registry_costs_the_health_answer_its_timeout_only(
    alice_client, two_devices, monkeypatch, caplog
):
    release, finished = threading.Event(), threading.Event()

    def hang(device_ids):
        release.wait(60)
        finished.set()
        return {}

    monkeypatch.setattr(tunnel_registry, "lookup_many", hang)
    try:
        with caplog.at_level(logging.WARNING, logger="devices.tunnel"):
            response = alice_client.get("/api/system/health")
        # Answered while the lookup still hangs: its timeout, not the lookup, ended it.
        assert not finished.is_set()
    finally:
        release.set()
    assert response.status_code == 200
    assert response.json()["tunnel_connected"] is False
    assert "tunnel registry too slow" in caplog.text
