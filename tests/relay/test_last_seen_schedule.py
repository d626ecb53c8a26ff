"""When a node writes its devices' last_seen_at: on a change, and each open tunnel once
an interval, spread (a fake clock)."""

from __future__ import annotations

from relay.last_seen import LastSeenSchedule


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def schedule(clock, fractions):
    draws = iter(fractions)
    return LastSeenSchedule(interval=600, clock=clock, random_fraction=lambda: next(draws))


def test_a_change_is_written_at_the_next_flush_then_each_interval():
    clock = Clock()
    plan = schedule(clock, [0.5])
    plan.opened("a")
    assert plan.take() == ["a"]  # the change of state
    assert plan.take() == []
    clock.now = 299
    assert plan.take() == []
    clock.now = 300  # its first periodic write: half an interval in (the draw)
    assert plan.take() == ["a"]
    clock.now = 899
    assert plan.take() == []
    clock.now = 900
    assert plan.take() == ["a"]


def test_tunnels_opened_together_are_written_apart():
    clock = Clock()
    plan = schedule(clock, [(i + 0.5) / 10 for i in range(10)])
    for name in "abcdefghij":
        plan.opened(name)
    plan.take()
    written = []
    for second in range(0, 600, 60):
        clock.now = second + 59
        written.append(len(plan.take()))
    assert written == [1] * 10


def test_a_closed_tunnel_is_written_once_more_and_then_left_alone():
    clock = Clock()
    plan = schedule(clock, [0.0])
    plan.opened("a")
    plan.take()
    plan.closed("a")
    assert plan.take() == ["a"]
    clock.now = 10_000
    assert plan.take() == []


def test_a_failed_flush_is_written_at_the_next():
    plan = schedule(Clock(), [0.9])
    plan.opened("a")
    failed = plan.take()
    plan.give_back(failed)
    assert plan.take() == ["a"]
