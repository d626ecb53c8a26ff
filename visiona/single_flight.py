"""Compute a value once across every worker and instance, through the cache.

The cache is Redis in production, so the lock and the shared result hold
across processes; with the local-memory cache (development) within one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")
_MISSING = object()
POLL_SECONDS = 0.05


class SingleFlightTimeout(Exception):
    """Waited longer than allowed for another process to finish the work."""


def single_flight(
    key: str,
    compute: Callable[[], T],
    *,
    ttl: float | Callable[[T], float],
    lock_timeout: float = 30,
    wait: float = 30,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """The cached value under ``key``, or ``compute()`` run by exactly one caller
    while the others wait for its result. A failure is never cached: the
    exception reaches the caller that computed, and a waiter then tries itself.
    ``ttl`` may be a function of the value (a token's own lifetime, say).
    """
    lock_key = f"{key}:lock"
    deadline = time.monotonic() + wait
    while True:
        value = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        token = uuid.uuid4().hex
        if cache.add(lock_key, token, lock_timeout):
            try:
                value = cache.get(key, _MISSING)  # filled between our get and add?
                if value is _MISSING:
                    value = compute()
                    cache.set(key, value, ttl(value) if callable(ttl) else ttl)
                return value
            finally:
                if cache.get(lock_key) == token:
                    cache.delete(lock_key)
        if time.monotonic() >= deadline:
            raise SingleFlightTimeout(key)
        sleep(POLL_SECONDS)
