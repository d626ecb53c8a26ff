"""One truth about a device's connection: its tunnel when the registry answers, its
heartbeats only when it cannot; the same words on the list, its page and the API."""

from __future__ import annotations

import uuid

import pytest
import responses
from django.utils import translation

from devices import presence, tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"


@pytest.fixture
def beating(alice_device, agent_client):
    """Alice's device, its agent's last heartbeat a moment ago ("ready")."""
    agent_client(alice_device.token).post("/api/agent/heartbeat", {}, format="json")
    alice_device.device.refresh_from_db()
    return alice_device.device


@pytest.fixture
def connected(beating):
    """... and its tunnel open."""
    connection = uuid.uuid4().hex
    tunnel_registry.register(device_id=str(beating.pk), node_url=NODE, connection_id=connection)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as node:
        node.get(f"{NODE}/devices/{beating.pk}/api/system/deps", json={"dongles": []})
        node.get(f"{NODE}/devices/{beating.pk}/api/models", json={"models": []})
        yield beating
    tunnel_registry.unregister(device_id=str(beating.pk), connection_id=connection)


def pages(client, device) -> dict[str, str]:
    return {
        "list": client.get("/devices/").content.decode(),
        "page": client.get(f"/devices/{device.pk}/").content.decode(),
    }


def api_status(client, device) -> tuple[str, str]:
    listed = client.get("/api/devices/").json()["devices"][0]
    detail = client.get(f"/api/devices/{device.pk}").json()
    assert listed["connection_status"] == detail["connection_status"]
    return detail["connection_status"], detail["connection_known_from"]


def test_a_stopped_agent_is_offline_everywhere_at_once(alice_client, beating):
    # The heartbeat is seconds old, but the tunnel is gone: the agent stopped.
    assert beating.heartbeat_is_recent()
    assert beating.connection_status() == "offline"
    for name, page in pages(alice_client, beating).items():
        assert 'class="status status-offline">Offline' in page, name
        assert "status-online" not in page, name
        assert "(ready)" not in page, name
    assert api_status(alice_client, beating) == ("offline", "tunnel")
    assert "0 of 1 device online" in pages(alice_client, beating)["list"]


def test_an_open_tunnel_is_online_everywhere(alice_client, connected):
    for name, page in pages(alice_client, connected).items():
        assert 'class="status status-online">Online' in page, name
        assert "Not connected" not in page and "Offline" not in page, name
    assert "(ready)" in pages(alice_client, connected)["page"]
    assert api_status(alice_client, connected) == ("online", "tunnel")


def test_the_agents_status_is_translated(alice_client, connected):
    alice_client.cookies["django_language"] = "zh-hant"
    with translation.override("zh-hant"):
        page = alice_client.get(f"/devices/{connected.pk}/").content.decode()
    assert "（就緒）" in page and "(ready)" not in page  # noqa: RUF001


def test_without_the_registry_the_heartbeats_decide_and_say_so(alice_client, beating, monkeypatch):
    def down(device_ids):
        raise ConnectionError("registry down")

    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    assert api_status(alice_client, beating) == ("online", "heartbeat")
    page = pages(alice_client, beating)["page"]
    assert "status-online" in page and "the tunnel registry did not answer" in page


def test_an_unpaired_device_is_never_online(beating):
    beating.deleted_at = beating.last_seen_at
    answer = presence.presence_of(beating, {str(beating.pk): object()})
    assert not answer.online and answer.tunnel is None
