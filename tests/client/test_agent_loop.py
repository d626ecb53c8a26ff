"""The heartbeat loop with a fake visionA and a fake clock: retry, recover, stop."""

from __future__ import annotations

import pytest
from visiona_client.agent import Agent, DeviceRefused
from visiona_client.backoff import Backoff
from visiona_client.server_api import ServerError


class FakeApi:
    server_url = "https://visiona.example"

    def __init__(self, answers) -> None:
        self.answers = list(answers)
        self.statuses: list[str] = []

    def heartbeat(self, *, status, agent_version):
        self.statuses.append(status)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def beat(interval=20):
    return {
        "device_id": "d1",
        "connection_status": "online",
        "heartbeat_interval_seconds": interval,
    }


def make_agent(answers, *, stop_after: int, local_up: bool = True):
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return len(waits) >= stop_after  # True: the agent is told to stop

    agent = Agent(
        api=FakeApi(answers),
        local_url="http://127.0.0.1:1",
        backoff=Backoff(random=lambda: 1.0),
        wait=wait,
        local_check=lambda url: local_up,
    )
    return agent, waits


def test_it_beats_at_the_interval_the_server_gives():
    agent, waits = make_agent([beat(20), beat(7), beat(7)], stop_after=3)
    agent.run()
    assert waits == [20, 7, 7]


def test_network_errors_and_5xx_back_off_then_recover():
    answers = [
        ServerError("cannot reach visionA"),
        ServerError("down", status=503),
        ServerError("bad gateway", status=502),
        ServerError("busy", status=429),
        beat(30),
        ServerError("cannot reach visionA"),
    ]
    agent, waits = make_agent(answers, stop_after=6)
    agent.run()
    # 1, 2, 4, 8 (the ceiling, as the fake draws 1.0); the success resets it to 1.
    assert waits == [1, 2, 4, 8, 30, 1]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_token_stops_at_once(status):
    error = ServerError("no", status=status, code="device_token_invalid")
    agent, waits = make_agent([beat(), error, beat()], stop_after=99)
    with pytest.raises(DeviceRefused, match="revoked or has expired, or the device was unpaired"):
        agent.run()
    assert waits == [20]


def test_another_client_error_is_not_retried():
    agent, waits = make_agent([ServerError("bad", status=400)], stop_after=99)
    with pytest.raises(ServerError):
        agent.run()
    assert waits == []


def test_the_heartbeat_says_when_the_local_api_is_down():
    agent, _ = make_agent([beat()], stop_after=1, local_up=False)
    agent.run()
    assert agent.api.statuses == ["local-api-down"]
