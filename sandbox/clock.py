"""The sandbox's one clock, so tests can move time (monkeypatch ``now``)."""

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def iso8601(timestamp: float) -> str:
    """Like a Node.js service answers: ``2025-01-31T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
