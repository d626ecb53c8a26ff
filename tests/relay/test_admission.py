"""The handshake rate of a node, and the Retry-After it gives past it (a fake clock)."""

from __future__ import annotations

import itertools

from relay.admission import MAX_RETRY_AFTER_SECONDS, Admission


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_takes_its_rate_then_says_when_to_come_back():
    clock = Clock()
    admission = Admission(rate=10, clock=clock, random_fraction=lambda: 0.999)
    assert [admission.admit() for _ in range(10)] == [None] * 10  # the burst
    retry_after = admission.admit()
    assert retry_after == 1  # one turned away: come back within a second
    clock.now += 0.5  # half a second: five more places
    assert [admission.admit() for _ in range(5)] == [None] * 5
    assert admission.admit() is not None
    assert admission.refused == 2


def test_the_wait_grows_with_the_crowd_turned_away_and_is_spread():
    clock = Clock()
    draws = itertools.cycle([0.0, 0.999])
    admission = Admission(rate=100, clock=clock, random_fraction=lambda: next(draws))
    for _ in range(100):
        admission.admit()
    waits = [admission.admit() for _ in range(3000)]  # a storm: 3,000 at once
    # Spread between 1 s and the time the node needs for them (3,000 / 100 a second).
    assert min(waits) == 1
    assert max(waits) == 30
    for _ in range(10_000):
        admission.admit()
    assert admission.admit() <= MAX_RETRY_AFTER_SECONDS


def test_the_crowd_is_forgotten_after_the_window():
    clock = Clock()
    admission = Admission(rate=10, clock=clock, random_fraction=lambda: 0.999)
    for _ in range(510):
        admission.admit()
    assert admission.admit() > 40
    clock.now += 11  # the refusals are older than the window; the bucket is full again
    for _ in range(10):
        assert admission.admit() is None
    assert admission.admit() == 1


def test_a_rate_of_zero_admits_everyone():
    admission = Admission(rate=0)
    assert all(admission.admit() is None for _ in range(1000))
