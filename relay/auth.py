"""Who is at the other end of a tunnel, asked of the database from a worker thread
(the handshake's checks: relay/token_checks.py; the re-check: relay/node.py).

The relay's event loop never touches the ORM itself: each call runs in a small
thread pool (Django's connections are per thread), with ``close_old_connections``
before and after so a long-lived process neither keeps a broken connection nor
outlives CONN_MAX_AGE.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DatabaseError, close_old_connections, connections
from redis.exceptions import RedisError

T = TypeVar("T")
# A few threads: the token check of a reconnect storm queues here instead of
# opening a database connection per agent.
_WORKERS = 4
_EXECUTOR = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="relay-db")


@dataclass(frozen=True)
class TunnelIdentity:
    device_id: str
    token_hash: str  # the DeviceToken's key: re-checked while the tunnel lives


def _with_fresh_connection(function: Callable[[], T]) -> T:
    close_old_connections()
    try:
        return function()
    finally:
        close_old_connections()


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run blocking Django code (ORM, cache, registry) off the event loop."""
    call = functools.partial(function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, _with_fresh_connection, call)


def close_connections() -> None:
    """Close every worker thread's database connection (a node stopping: none is left
    open on the server). Each worker takes exactly one closing job (the barrier)."""
    barrier = threading.Barrier(_WORKERS)

    def close() -> None:
        connections.close_all()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)

    wait([_EXECUTOR.submit(close) for _ in range(_WORKERS)], timeout=10)


def bearer_token(authorization: str | None) -> str | None:
    parts = (authorization or "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


# A store that does not answer (PostgreSQL, the Redis registry): expected, logged as one
# line with ``outage_reason``; any other error is a bug and keeps its traceback.
OUTAGES = (DatabaseError, RedisError)


def outage_reason(exc: BaseException) -> str:
    """A failed check's reason in one line for the log: the error's kind and the first
    line of its message (the driver's "connection refused"), without the traceback."""
    message = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {message[0]}" if message else exc.__class__.__name__
