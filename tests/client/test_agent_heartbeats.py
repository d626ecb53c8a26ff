"""How often the agent sends heartbeats beside its tunnel (a fake visionA, a fake clock).

With the tunnel open, visionA hears from the agent on a change of status or after
``tunnel_heartbeat_interval_seconds``; after the tunnel is gone for
``tunnel_grace_seconds``, at every interval as before; an older visionA (which names
neither) at every interval.
"""

from __future__ import annotations

import itertools
import threading

from visiona_client.agent import Agent
from visiona_client.backoff import Backoff, retry_after_seconds
from visiona_client.tunnel import retry_after
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response


class FakeApi:
    server_url = "https://visiona.example"

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.beats: list[tuple[float, str]] = []
        self.clock = None

    def heartbeat(self, *, status, agent_version):
        self.beats.append((self.clock.now, status))
        return dict(self.answer)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0


class FakeTunnel:
    """Connected or not, as a test's script says; runs (in the agent's tunnel thread)
    until stopped."""

    def __init__(self, clock: FakeClock) -> None:
        self.connected = False
        self.down_since = clock.now
        self._stopped = threading.Event()

    def run(self) -> None:
        self._stopped.wait(30)

    def stop(self) -> None:
        self._stopped.set()


def answer(**extra) -> dict:
    return {"device_id": "d1", "heartbeat_interval_seconds": 30, **extra}


NEW_VISIONA = answer(tunnel_heartbeat_interval_seconds=3600, tunnel_grace_seconds=180)


def run_agent(api_answer: dict, *, ticks: int, script=None):
    """Run ``ticks`` intervals; ``script(tick, clock, tunnel, local)`` changes the world
    before each. Returns the beats (time, status)."""
    clock = FakeClock()
    api = FakeApi(api_answer)
    api.clock = clock
    local = {"up": True}
    tunnel = FakeTunnel(clock)
    state = {"tick": 0}

    def wait(seconds: float) -> bool:
        clock.now += seconds
        state["tick"] += 1
        if script:
            script(state["tick"], clock, tunnel, local)
        return state["tick"] >= ticks

    agent = Agent(
        api=api,
        local_url="http://127.0.0.1:1",
        backoff=Backoff(random=lambda: 1.0),
        wait=wait,
        local_check=lambda url: local["up"],
        tunnel=False,
        clock=lambda: clock.now,
        random_fraction=lambda: 0.5,
    )
    agent.tunnel = tunnel  # a fake: connected or not, as the script says
    agent.run()
    return api.beats


def connect_at_first_tick(tick, clock, tunnel, local):
    if tick == 1:
        tunnel.connected = True


def test_with_the_tunnel_open_it_beats_hourly_not_every_interval():
    beats = run_agent(NEW_VISIONA, ticks=300, script=connect_at_first_tick)  # 2.5 hours
    times = [at - 1000.0 for at, _status in beats]
    # The first at start (it names the tunnel), then one per 3,600 s (x 0.9-1.1: 1.0 here).
    assert times == [0, 3600, 7200]


def test_a_change_of_status_is_sent_at_once():
    def script(tick, clock, tunnel, local):
        connect_at_first_tick(tick, clock, tunnel, local)
        local["up"] = tick < 10

    beats = run_agent(NEW_VISIONA, ticks=20, script=script)
    assert [(at - 1000.0, status) for at, status in beats] == [
        (0, "ready"),
        (300, "local-api-down"),
    ]


def test_a_short_tunnel_outage_sends_nothing_a_long_one_beats_every_interval():
    def script(tick, clock, tunnel, local):
        if tick == 1:
            tunnel.connected = True
        if tick == 100:  # the relay restarts: down for 60 s
            tunnel.connected, tunnel.down_since = False, clock.now
        if tick == 102:
            tunnel.connected = True
        if tick == 200:  # the relay is gone
            tunnel.connected, tunnel.down_since = False, clock.now

    beats = run_agent(NEW_VISIONA, ticks=230, script=script)
    times = [at - 1000.0 for at, _status in beats]
    # The hourly one, nothing for the 60 s outage at 3,000 s; gone at 6,000 s, and after
    # the grace (180 s x 1.5, this agent's spread: 270 s) every 30 s.
    assert times[:3] == [0, 3600, 6000 + 270]
    assert all(later - earlier == 30 for earlier, later in itertools.pairwise(times[2:]))
    assert times[-1] == 230 * 30 - 30


def test_an_older_visiona_gets_a_heartbeat_every_interval():
    beats = run_agent(answer(), ticks=10, script=connect_at_first_tick)
    assert [at - 1000.0 for at, _status in beats] == [30 * n for n in range(10)]


def test_a_busy_relays_retry_after_is_read():
    busy = InvalidStatus(Response(503, "Service Unavailable", Headers({"Retry-After": "17"})))
    assert retry_after(busy) == 17
    assert retry_after(InvalidStatus(Response(503, "Service Unavailable", Headers()))) is None
    assert retry_after(OSError("refused")) is None
    assert retry_after_seconds(" 5 ") == 5
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert retry_after_seconds("999999") == 600  # capped
