"""When this node writes its devices' ``last_seen_at``: on a change, and coarsely.

A tunnel opening or closing is a change of state, written at the next flush
(every ``FLUSH_SECONDS``). While a tunnel stays open its device is written every
``interval`` seconds, its first time at a random point of the first interval, so
a node's writes are spread evenly however its tunnels arrived (a reconnect storm
brings them all within a minute). Each flush is one UPDATE per 1,000 devices,
all stamped with the flush's time (at most ``FLUSH_SECONDS`` late).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

FLUSH_SECONDS = 5.0


class LastSeenSchedule:
    def __init__(
        self,
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._random = random_fraction
        self._changed: set[str] = set()
        self._due: dict[str, float] = {}  # open tunnels: device id -> next periodic write

    def opened(self, device_id: str) -> None:
        self._changed.add(device_id)
        self._due[device_id] = self._clock() + self._random() * self.interval

    def closed(self, device_id: str) -> None:
        self._changed.add(device_id)
        self._due.pop(device_id, None)

    def take(self) -> list[str]:
        """The devices to write now; each open one is then due an interval later."""
        now = self._clock()
        chosen = set(self._changed)
        self._changed.clear()
        for device_id, due in self._due.items():
            if due <= now:
                chosen.add(device_id)
                self._due[device_id] = now + self.interval
        return sorted(chosen)

    def give_back(self, device_ids: list[str]) -> None:
        """A flush failed: write these at the next one."""
        self._changed.update(device_ids)
