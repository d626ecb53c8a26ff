"""How many handshakes a node takes per second, and when to come back if it is full.

A relay node that restarts with 10,000 tunnels sees them all dial again within
seconds. It takes ``rate`` handshakes a second (a token bucket, ``burst`` at
once); past that it answers 503 with ``Retry-After``: a random whole number of
seconds between 1 and the time the node needs for the agents it turned away
recently (their count over the last ``WINDOW_SECONDS``, divided by the rate; at
most ``MAX_RETRY_AFTER_SECONDS``). Agents told so come back spread over that
time, about as fast as the node takes them.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 10
MAX_RETRY_AFTER_SECONDS = 60


class Admission:
    def __init__(
        self,
        *,
        rate: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1, int(rate))
        self._clock = clock
        self._random = random_fraction
        self._tokens = float(self.burst)
        self._last = clock()
        self._refusals: deque[tuple[int, int]] = deque()  # (second, count)
        self.refused = 0  # so far (the benchmark reports it)

    def admit(self) -> int | None:
        """None: go ahead. Else the seconds to say in ``Retry-After``."""
        if self.rate <= 0:
            return None  # no limit configured
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        self.refused += 1
        backlog = self._count_refusal(int(now))
        spread = min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(backlog / self.rate)))
        return 1 + int(self._random() * spread)

    def _count_refusal(self, second: int) -> int:
        if self._refusals and self._refusals[-1][0] == second:
            self._refusals[-1] = (second, self._refusals[-1][1] + 1)
        else:
            self._refusals.append((second, 1))
        while self._refusals and self._refusals[0][0] <= second - WINDOW_SECONDS:
            self._refusals.popleft()
        return sum(count for _second, count in self._refusals)
