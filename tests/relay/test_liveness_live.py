"""Liveness through a real relay: a busy node, a silent agent, a dead node, and the
load agent (bench/load_agent.py) speaking the agent's protocol for a few dozen devices."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from deployments import services as deployment_services
from devices import services, tunnel_registry
from relay.h2_session import silence_seconds
from relay.node import LIVENESS_CHECK_SECONDS
from tests.models_repo.conftest import make_model, nef_bytes  # noqa: F401  (fixtures)
from tests.relay.conftest import ROOT, Relay, wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
_serials = itertools.count(1)


def paired(user, count: int) -> list:
    return [
        services.device_pair(
            code=services.pairing_code_create(user=user).code,
            serial=f"LIVE-{next(_serials):04d}",
            chip="KL720",
            client_address="192.0.2.10",
        )
        for _ in range(count)
    ]


def handshake(relay: Relay, token: str):
    """The handshake's answer: 101 (then closed at once), or the refusal's status and
    headers."""
    try:
        with connect(
            relay.tunnel_url,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=10,
        ):
            return 101, {}
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.headers


def test_a_busy_node_says_when_to_come_back(alice):
    [device] = paired(alice, 1)
    node = Relay(env={"RELAY_HANDSHAKES_PER_SECOND": "1"}).start()
    try:
        answers = [handshake(node, device.token) for _ in range(8)]
    finally:
        print(node.stop())
    statuses = [status for status, _headers in answers]
    assert 101 in statuses
    busy = [headers for status, headers in answers if status == 503]
    assert busy, statuses
    assert all(1 <= int(headers["Retry-After"]) <= 60 for headers in busy)


def test_a_silent_agent_is_noticed_within_its_ping_interval_and_the_margin(alice):
    [device] = paired(alice, 1)
    device_id = str(device.device.pk)
    relay = Relay(env={"RELAY_AGENT_PING_SECONDS": "5"}).start()  # 25 s of silence
    try:
        # A client that says nothing: no HTTP/2 preface, no WebSocket pings.
        with connect(
            relay.tunnel_url,
            additional_headers={"Authorization": f"Bearer {device.token}"},
            ping_interval=None,
        ):
            wait_connected(relay, device_id)
            wait_for(
                lambda: not relay.sessions(),
                timeout=silence_seconds(5) + LIVENESS_CHECK_SECONDS + 5,
                interval=0.5,
            )
        assert tunnel_registry.lookup(device_id) is None
    finally:
        output = relay.stop()
    assert "no sign of life from the agent" in output


def test_a_killed_nodes_devices_read_offline_within_its_lease(relay, connected_agent):
    assert tunnel_registry.lookup(connected_agent.device_id) is not None
    relay.stop(kill=True)  # no clean stop: nothing deletes its entries
    wait_for(
        lambda: tunnel_registry.lookup(connected_agent.device_id) is None,
        timeout=tunnel_registry.LEASE_TTL_SECONDS + 5,
        interval=0.5,
    )


class LoadAgent:
    """bench/load_agent.py in its own process; its latest counters."""

    def __init__(self, relay: Relay, tokens: list[str], folder: Path) -> None:
        tokens_file = folder / "tokens.txt"
        tokens_file.write_text("\n".join(tokens))
        self.errors = folder / "load-agent-errors.txt"
        self.process = subprocess.Popen(
            [
                *(sys.executable, str(ROOT / "bench/load_agent.py")),
                *("--tunnel-url", relay.tunnel_url, "--tokens", str(tokens_file)),
                *("--ramp", "0", "--report-every", "0.2"),
            ],
            stdout=subprocess.PIPE,
            stderr=self.errors.open("w"),
            text=True,
        )
        self._latest: dict = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._latest = json.loads(line)

    @property
    def latest(self) -> dict:
        """Its latest counters; a load agent that died fails the test with its errors."""
        if self.process.poll() is not None:
            raise AssertionError(f"the load agent exited: {self.errors.read_text()}")
        return self._latest

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def test_the_load_agent_speaks_the_agents_protocol(relay, alice, make_model, tmp_path):  # noqa: F811
    devices = paired(alice, 30)
    model = make_model(alice, "detector", chips=("KL720",), size=300_000)
    # Work made while the device was away: the relay nudges it when it connects.
    deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[str(devices[0].device.pk)]
    )
    agent = LoadAgent(relay, [d.token for d in devices], tmp_path)
    try:
        wait_for(lambda: agent.latest.get("connected") == 30, timeout=60)
        assert len(relay.sessions()) == 30
        for result in devices[:5]:
            answer = relay.get(f"/devices/{result.device.pk}/api/system/deps")
            assert answer.status_code == 200
            assert answer.json()["load_agent"] is True
        wait_for(lambda: agent.latest.get("syncs") == 1, timeout=10)

        # A restart: every agent comes back by itself.
        relay.stop()
        relay.start()
        wait_for(lambda: len(relay.sessions()) == 30, timeout=90, interval=0.5)

        # A revoked token: its tunnel closes and its next handshake is refused.
        services.device_token_revoke(device_token=devices[1].device_token)
        wait_for(lambda: agent.latest.get("refused") == 1, timeout=30)
        assert len(relay.sessions()) == 29
    finally:
        agent.stop()
