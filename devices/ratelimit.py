"""A failure counter in the cache: after N failures in a window, refuse until it ends.

Fixed windows keep it to one counter per key (``cache.incr`` is atomic in Redis
and in the local-memory cache). Only failures count, so a success never resets
anyone's counter; the window's end does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from visiona.errors import RateLimited


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class FailureLimit:
    name: str
    limit: int
    window_seconds: int

    def _window(self, now: float) -> tuple[int, float]:
        index = int(now // self.window_seconds)
        return index, (index + 1) * self.window_seconds

    def _key(self, identity: str, index: int) -> str:
        return f"ratelimit:{self.name}:{index}:{identity}"

    def check(self, identity: str) -> None:
        """Raise RateLimited (with Retry-After) if ``identity`` used up its failures."""
        now = _now()
        index, ends_at = self._window(now)
        if (cache.get(self._key(identity, index)) or 0) >= self.limit:
            retry_after = max(1, math.ceil(ends_at - now))
            raise RateLimited(headers={"Retry-After": str(retry_after)})

    def record_failure(self, identity: str) -> int:
        """Count one failure; returns the count in the current window."""
        now = _now()
        index, ends_at = self._window(now)
        key = self._key(identity, index)
        # add() creates the counter with its expiry only if it is missing; incr() keeps it.
        cache.add(key, 0, timeout=math.ceil(ends_at - now) + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=math.ceil(ends_at - now) + 1)
            return 1
