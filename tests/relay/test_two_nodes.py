"""Two relay nodes on one database and Redis: the registry names the node holding a device."""

from __future__ import annotations

import pytest

from devices import tunnel_registry
from tests.relay.conftest import Relay, wait_connected

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_relay():
    node = Relay().start()
    yield node
    print("second relay output:\n" + node.stop())


def test_an_agent_moving_to_another_node_moves_its_entry(
    relay, second_relay, connected_agent, settings
):
    device_id = connected_agent.device_id
    assert tunnel_registry.lookup(device_id).node_url == relay.internal_url
    assert second_relay.get(f"/devices/{device_id}/api/system/deps").status_code == 503

    # visionA now names the second node; the first goes away (a deploy, a scale-down).
    settings.RELAY_PUBLIC_URL = second_relay.tunnel_url
    relay.stop()
    # The agent learns the new URL at its next heartbeat, then reconnects with backoff.
    wait_connected(second_relay, device_id, timeout=90)
    entry = tunnel_registry.lookup(device_id)
    assert entry.node_url == second_relay.internal_url
    response = second_relay.get(f"/devices/{device_id}/api/system/deps")
    assert response.status_code == 200
    assert response.json()["demo"] is True
