"""Agents dial the tunnel through nginx (a WebSocket upgrade at /tunnel), and a request
relayed to the device through the whole stack answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from devices.models import Device
from tests.loopback import signed_in_session
from tests.relay.conftest import Agents
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def test_an_agent_dials_through_nginx_and_answers_through_the_stack(
    loopback_stack_factory, alice, tmp_path, settings
):
    # Heartbeats every second (a third of the threshold): the agent learns the tunnel's
    # address (nginx's /tunnel, RELAY_PUBLIC_URL) at once.
    stack = loopback_stack_factory.start(env={"DEVICE_ONLINE_THRESHOLD_SECONDS": "3"})
    agents = Agents(SimpleNamespace(url=stack.base_url), alice, tmp_path)
    try:
        state_dir = agents.pair()
        device = Device.objects.get(owner=alice)
        agents.run(state_dir)
        relay = stack.relay_internal_urls[0]
        secret = {"X-Relay-Secret": settings.RELAY_INTERNAL_SECRET}

        def held():
            sessions = requests.get(f"{relay}/sessions", headers=secret, timeout=10).json()
            return any(entry["device_id"] == str(device.pk) for entry in sessions["sessions"])

        wait_for(held, timeout=60, interval=0.2)
        cookies = {"visiona_session": signed_in_session(alice)}
        answer = requests.get(
            stack.url(f"/api/devices/{device.pk}/agent/api/system/deps"),
            cookies=cookies,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["demo"] is True
    finally:
        agents.stop_all()
    # The tunnel was nginx's: its log has the upgrade (101) on /tunnel once it closed.
    access = stack.work / "nginx" / "access.log"
    wait_for(lambda: '"GET /tunnel HTTP/1.1" 101' in access.read_text(), timeout=30)
