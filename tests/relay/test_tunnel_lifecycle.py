"""Who may hold a tunnel, for how long: handshake, revocation, replacement, restarts."""

from __future__ import annotations

import threading

import pytest
from visiona_client.tunnel import TunnelClient, TunnelRefused
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from devices import services, tunnel_registry
from tests.relay.conftest import RECHECK_BACKSTOP_SECONDS, relay_logged, wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def handshake_status(relay, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with connect(relay.tunnel_url, additional_headers=headers, open_timeout=5):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_the_handshake_needs_a_usable_token(relay, alice_device_token):
    assert handshake_status(relay, None) == 401
    assert handshake_status(relay, "vad_not-a-real-token") == 401
    assert handshake_status(relay, alice_device_token.token) == 101
    services.device_token_revoke(device_token=alice_device_token.device_token)
    # The handshake's answer was cached; the node's next re-check forgets it.
    wait_for(
        lambda: handshake_status(relay, alice_device_token.token) == 401,
        timeout=RECHECK_BACKSTOP_SECONDS,
    )


def test_the_agents_tunnel_stops_on_a_refused_handshake(relay, alice_device_token):
    services.device_unpair(device=alice_device_token.device)
    client = TunnelClient(
        token=alice_device_token.token,
        local_url="http://127.0.0.1:9",
        user_agent="test",
        tunnel_url=lambda: relay.tunnel_url,
        stopping=threading.Event(),
    )
    with pytest.raises(TunnelRefused):
        client.run()


def test_unpairing_closes_a_live_tunnel_at_the_next_recheck(relay, connected_agent):
    services.device_unpair(device=connected_agent.device)
    wait_for(lambda: not relay.sessions(), timeout=RECHECK_BACKSTOP_SECONDS, interval=0.05)
    # The registry's entry goes in the node's next batch of removals, just after.
    wait_for(lambda: tunnel_registry.lookup(connected_agent.device_id) is None)
    response = relay.get(f"/devices/{connected_agent.device_id}/api/system/deps")
    assert response.status_code == 503
    assert wait_for(lambda: connected_agent.process.poll(), timeout=15) == 3


def test_a_second_agent_of_the_device_replaces_the_first(relay, connected_agent, agents):
    first = wait_connected(relay, connected_agent.device_id)
    second_process = agents.run(connected_agent.state_dir)  # the same token
    replaced = wait_for(
        lambda: [s for s in relay.sessions() if s["connection_id"] != first["connection_id"]],
        timeout=20,
    )
    connected_agent.process.kill()  # else the two take turns replacing each other
    sessions = relay.sessions()
    assert len(sessions) == 1
    assert sessions[0]["connection_id"] == replaced[0]["connection_id"]
    entry = tunnel_registry.lookup(connected_agent.device_id)
    assert entry.connection_id == sessions[0]["connection_id"]
    # The first's connection closing (it was replaced, then killed) took nothing of the
    # second's: the node logs a tunnel's end once it has let go of it.
    wait_for(lambda: relay_logged(relay, "tunnel closed", first["connection_id"]))
    response = relay.get(f"/devices/{connected_agent.device_id}/api/system/deps")
    assert response.status_code == 200
    assert second_process.poll() is None


def test_after_a_relay_restart_the_agent_comes_back_by_itself(relay, connected_agent):
    before = wait_connected(relay, connected_agent.device_id)
    output = relay.stop()
    assert "closing 1 tunnels" in output
    # A clean stop removes the node's entries: web instances see the device offline at once.
    assert tunnel_registry.lookup(connected_agent.device_id) is None
    relay.start()
    after = wait_connected(relay, connected_agent.device_id, timeout=30)
    assert after["connection_id"] != before["connection_id"]
    response = relay.get(f"/devices/{connected_agent.device_id}/api/device/info")
    assert response.status_code == 200
    assert response.json()["demo"] is True
    assert connected_agent.process.poll() is None


@pytest.fixture
def alice_device_token(alice):
    issued = services.pairing_code_create(user=alice)
    return services.device_pair(code=issued.code, serial="TUNNEL-0001", chip="KL720")
