"""Waiting in a test for what another thread or process does: poll for it, never sleep
a fixed time and hope (a slow machine only makes the wait longer)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call ``condition`` every ``interval`` s until it answers something true, and return
    that. ``timeout`` is only a backstop: past it the test fails, naming ``what`` it
    waited for (or the condition)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout} s for {what or condition}")
        time.sleep(interval)
