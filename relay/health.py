"""The relay node's own probes, on its internal port and without the shared secret.

- ``GET /livez``: the process and its event loop answer. Nothing else is asked, so
  an outage of PostgreSQL or Redis never gets a healthy node restarted.
- ``GET /readyz``: the node can take tunnels: the registry (Redis; the database
  without it) and the database (each agent's token) both answer, with the same checks,
  names and 2 s bounds as the web app's ``/healthz`` (``visiona.health``), and the node
  holds its registry lease and listens for agents (``tunnels``: a node started while
  the registry was away waits for it, answering these probes meanwhile).

Both answer JSON, 200 or 503, and say nothing about devices or tunnels: anyone who
reaches the internal port may ask (a container's or a balancer's probe has no secret).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from visiona.health import run_checks

LIVENESS_PATH = "/livez"
READINESS_PATH = "/readyz"
PATHS = frozenset({LIVENESS_PATH, READINESS_PATH})
# Past this the node is not ready, whatever is still pending (each check has 2 s).
READINESS_TIMEOUT_SECONDS = 5.0
# A thread of its own: a reconnect storm queueing token checks on the database pool
# must not make the probe time out (and the balancer drop a working node).
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-health")


def _checks() -> dict[str, str]:
    close_old_connections()
    try:
        return run_checks()
    finally:
        close_old_connections()


async def probe(path: str, *, started: bool) -> tuple[int, dict[str, object]]:
    """The status and JSON body for ``path`` (one of ``PATHS``); ``started``: the node
    holds its lease and takes tunnels."""
    if path == LIVENESS_PATH:
        return 200, {"status": "ok"}
    loop = asyncio.get_running_loop()
    try:
        checks = await asyncio.wait_for(
            loop.run_in_executor(_EXECUTOR, _checks), READINESS_TIMEOUT_SECONDS
        )
    except TimeoutError:
        return 503, {"status": "unavailable", "checks": {"timeout": "down"}}
    checks["tunnels"] = "ok" if started else "down"
    healthy = all(state == "ok" for state in checks.values())
    return (200 if healthy else 503), {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
    }
