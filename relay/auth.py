"""Who is at the other end of a tunnel, asked of the database from a worker thread.

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

from django.db import close_old_connections, connections

from devices import services
from devices.errors import DeviceTokenInvalid
from devices.models import DeviceToken

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


def identify(token: str) -> TunnelIdentity | None:
    """The device a usable token belongs to; None when revoked, expired or unpaired."""
    try:
        device_token = services.device_token_authenticate(token=token)
    except DeviceTokenInvalid:
        return None
    return TunnelIdentity(device_id=str(device_token.device_id), token_hash=device_token.pk)


def usable_tokens(token_hashes: set[str]) -> set[str]:
    """Which of these tokens are still usable: one query for all of a node's tunnels."""
    if not token_hashes:
        return set()
    return set(
        DeviceToken.objects.usable().filter(pk__in=token_hashes).values_list("pk", flat=True)
    )
