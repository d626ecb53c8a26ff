"""The agent's own paths in the tunnel: ``/_visiona/…``, answered here, never forwarded.

visionA sends ``POST /_visiona/deployments/sync`` through the tunnel when it has new
work for the device (or cancelled some): the agent answers 202 ``{"accepted": true}``
and wakes its deployment worker; ``POST /_visiona/runs/sync`` likewise wakes its run
worker (docs/runs.md). Any other ``/_visiona/`` path is a 404 and another
method a 405 (the API's error envelope), so nothing under that prefix ever reaches
the local device API. The prefix is matched after percent-decoding the path.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import unquote, urlsplit

CONTROL_PREFIX = "/_visiona/"
SYNC_PATH = "/_visiona/deployments/sync"
RUNS_SYNC_PATH = "/_visiona/runs/sync"


def is_control_path(path: str) -> bool:
    decoded = unquote(urlsplit(path).path)
    return decoded.startswith(CONTROL_PREFIX) or decoded == CONTROL_PREFIX.rstrip("/")


class ControlPaths:
    """``{path: handler}`` for POSTs; ``answer`` -> (status, JSON body)."""

    def __init__(self, handlers: dict[str, Callable[[], None]] | None = None) -> None:
        self.handlers = dict(handlers or {})

    def answer(self, method: str, path: str, request_id: str = "") -> tuple[int, dict[str, Any]]:
        handler = self.handlers.get(unquote(urlsplit(path).path))
        if handler is None:
            return 404, _error("not_found", "The agent has no such path.", request_id)
        if method != "POST":
            return 405, _error("method_not_allowed", "The agent's paths take POST.", request_id)
        handler()
        return 202, {"accepted": True}


def _error(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}, "request_id": request_id}}
