"""Exponential backoff with full jitter.

After the n-th failure in a row the agent waits a random time between 0 and
min(cap, base * 2**(n-1)) seconds: 1 s, 2 s, 4 s … up to 60 s. Full jitter (the
whole interval is random, not just a slice of it) spreads agents that lost the
server at the same moment, so a restart is not met by a thundering herd.
"""

from __future__ import annotations

import random
from typing import Callable

BASE_SECONDS = 1.0
CAP_SECONDS = 60.0


class Backoff:
    def __init__(
        self,
        *,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        random: Callable[[], float] = random.random,
    ) -> None:
        self.base = base
        self.cap = cap
        self._random = random
        self.failures = 0

    def ceiling(self) -> float:
        """The longest wait after the current run of failures."""
        if self.failures == 0:
            return 0.0
        # Bounded exponent: 2**1000 would overflow a float long after the cap applies.
        return float(min(self.cap, self.base * 2 ** min(self.failures - 1, 32)))

    def next_delay(self) -> float:
        """Count one more failure and say how long to wait before the next try."""
        self.failures += 1
        return self._random() * self.ceiling()

    def reset(self) -> None:
        """A success: the next failure starts again from the base."""
        self.failures = 0
