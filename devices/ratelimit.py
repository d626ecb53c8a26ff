"""A failure limit in the cache: after N failures in a window, refuse until it ends.

Admission is one atomic ``cache.incr`` (atomic in Redis and in the local-memory
cache): an attempt takes a slot *before* it is evaluated, and is let in only if
its slot is within the limit. A check-then-count limiter lets every parallel
guess through the check before any failure is counted; this one cannot: at most
``limit`` attempts hold a slot at once. A failed attempt keeps its slot until the
window ends; any other outcome (success, or a refusal by another limit) gives it
back, so only failures use up the limit and a success resets nobody's counter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.core.cache import cache

from visiona.errors import RateLimited


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Slot:
    """One admitted attempt: the counter it was counted in."""

    key: str

    def release(self) -> None:
        # ValueError: the window (and its counter) is already gone.
        with suppress(ValueError):
            cache.decr(self.key)


@dataclass(frozen=True)
class FailureLimit:
    name: str
    limit: int
    window_seconds: int

    def acquire(self, identity: str) -> Slot:
        """Count an attempt by ``identity``; RateLimited (with Retry-After) past the limit."""
        now = _now()
        index = int(now // self.window_seconds)
        ends_at = (index + 1) * self.window_seconds
        key = f"ratelimit:{self.name}:{index}:{identity}"
        slot = Slot(key)
        if _incr(key, timeout=math.ceil(ends_at - now) + 1) > self.limit:
            slot.release()  # a refused attempt holds nothing
            raise RateLimited(headers={"Retry-After": str(max(1, math.ceil(ends_at - now)))})
        return slot


def _incr(key: str, *, timeout: int) -> int:
    # add() creates the counter with its expiry only if it is missing; incr() keeps it.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


@contextmanager
def failure_limited(*limits: tuple[FailureLimit, str], failure: type[Exception]) -> Iterator[None]:
    """Run the block as one attempt against every ``(limit, identity)``.

    Raises RateLimited before the block runs if any limit is used up. The block
    raising ``failure`` counts against every limit; anything else does not.
    """
    slots: list[Slot] = []
    try:
        for limit, identity in limits:
            slots.append(limit.acquire(identity))
        yield
    except failure:
        slots.clear()  # kept: this failure counts until the window ends
        raise
    finally:
        for slot in slots:
            slot.release()
