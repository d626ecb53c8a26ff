"""The nudge: tell a connected device's agent that its deployments changed.

``POST /_visiona/deployments/sync`` through the device's tunnel, after the
transaction commits, in a background thread with a short timeout. Best effort:
any failure is only logged, since the agent's next heartbeat carries the same
work (docs/deployments.md, "Push and pull").
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import transaction

from devices import relay_client, tunnel_registry

logger = logging.getLogger(__name__)

PUSH_PATH = "_visiona/deployments/sync"
# Seconds to wait for the agent's answer: it answers at once, without its local API.
PUSH_TIMEOUT = 2.0
_BODY = b"{}"

# Few threads: a nudge takes milliseconds; a hung node only ever holds these.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="deployment-push")


def push_after_commit(device_ids: Iterable[str]) -> None:
    """Nudge these devices once the current transaction commits (at once outside one)."""
    ids = list(device_ids)
    transaction.on_commit(lambda: push(ids))


def push(device_ids: list[str], *, path: str = PUSH_PATH) -> list[Future]:
    """Nudge the connected ones among ``device_ids``; the futures answer the status (or None).

    ``path``: the agent's control path, deployments' by default (runs use
    ``_visiona/runs/sync``); the same relay client, so the same caps apply."""
    try:
        registrations = tunnel_registry.lookup_many(device_ids)
    except Exception:
        logger.warning("deployment push skipped: tunnel registry unavailable", exc_info=True)
        return []
    return [
        _pool.submit(nudge, device_id=device_id, node_url=registration.node_url, path=path)
        for device_id, registration in registrations.items()
    ]


def nudge(*, device_id: str, node_url: str, path: str = PUSH_PATH) -> int | None:
    """One nudge; the agent's answer status, or None when it did not arrive."""
    started = time.monotonic()
    try:
        answer = relay_client.relay(
            node_url=node_url,
            device_id=device_id,
            method="POST",
            path=path,
            headers={"Content-Type": "application/json"},
            body=io.BytesIO(_BODY),
            content_length=len(_BODY),
            request_id=uuid.uuid4().hex,
            read_timeout=PUSH_TIMEOUT,
        )
    except Exception as exc:
        logger.info(
            "deployment push failed",
            extra={"device_id": device_id, "error": getattr(exc, "code", type(exc).__name__)},
        )
        return None
    answer.close()
    logger.info(
        "deployment push",
        extra={
            "device_id": device_id,
            "status": answer.status,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return answer.status
