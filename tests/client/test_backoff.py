"""Reconnect delays: exponential from 1 s, capped at 60 s, with full jitter."""

from __future__ import annotations

import pytest
from visiona_client.backoff import Backoff


def delays(backoff: Backoff, count: int) -> list[float]:
    return [backoff.next_delay() for _ in range(count)]


def test_the_ceiling_doubles_from_one_second_up_to_sixty():
    backoff = Backoff(random=lambda: 1.0)
    assert delays(backoff, 9) == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_whole_interval_is_random():
    # Full jitter: a draw of r waits r * ceiling, from 0 up to the ceiling.
    draws = iter([0.0, 0.5, 0.25, 0.999])
    backoff = Backoff(random=lambda: next(draws))
    assert delays(backoff, 4) == pytest.approx([0.0, 1.0, 1.0, 7.992])


def test_a_success_starts_again_from_one_second():
    backoff = Backoff(random=lambda: 1.0)
    delays(backoff, 5)
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_real_draws_stay_within_the_ceiling():
    backoff = Backoff()
    for _ in range(200):
        delay = backoff.next_delay()
        assert 0.0 <= delay <= backoff.ceiling() <= 60.0
    assert len({round(backoff.next_delay(), 6) for _ in range(20)}) > 1
