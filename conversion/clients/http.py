"""The one way the upstream clients make an HTTP call: retries, timeouts, one log line.

Each thread keeps its own ``requests.Session`` (connection pooling; sessions
are not thread-safe under gthread workers). Only network errors and 5xx are
retried, with the schedule the caller gives; a 4xx is an answer, never retried.
Nothing secret is logged: no headers, no bodies, no query strings.

Every call carries ``X-Request-Id`` (the request being served, or a new id outside
one), and the upstream's own request id is logged beside ours, so a support case
can be followed across services.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import requests
from django.conf import settings

from visiona.api import parsers
from visiona.log import current_request_id

logger = logging.getLogger("visiona.upstream")

_local = threading.local()

# (connect, read) seconds.
DEFAULT_TIMEOUT = (10, 10)


def session() -> requests.Session:
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.trust_env = False  # no proxies or netrc credentials sneaking in
        _local.session = current
    return current


def sleep(seconds: float) -> None:
    # Tests scale the schedule to zero through the setting.
    scale = getattr(settings, "UPSTREAM_BACKOFF_SCALE", 1.0)
    if seconds * scale > 0:
        time.sleep(seconds * scale)


class UpstreamUnreachable(Exception):
    """Every attempt failed on the network; the caller maps it to its own error."""


REQUEST_ID_HEADER = "X-Request-Id"


def outgoing_request_id() -> str:
    current = current_request_id()
    return current if current and current != "-" else uuid.uuid4().hex


def upstream_request_id(response: requests.Response) -> str | None:
    """The upstream's id for this request: its header, or its error body's."""
    value = response.headers.get(REQUEST_ID_HEADER)
    if not value and response.status_code >= 400:
        body = json_or_none(response)
        error = body.get("error") if isinstance(body, dict) else None
        value = error.get("request_id") if isinstance(error, dict) else None
    return str(value)[:128] if value else None


def call(
    method: str,
    url: str,
    *,
    service: str,
    endpoint: str,
    backoff: Sequence[float] = (),
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    job_id: str | None = None,
    headers: dict[str, str] | None = None,
    before_attempt: Callable[[], None] | None = None,
    after_answer: Callable[[requests.Response], None] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """The upstream's answer, after retrying network errors and 5xx per ``backoff``.

    ``endpoint`` is the path template for the log (never the real URL, which
    may carry a token). Raises ``UpstreamUnreachable`` when no answer came.
    ``before_attempt`` runs before each attempt (it may raise to stop: the
    converter's budget), ``after_answer`` on each answer.
    """
    headers = {REQUEST_ID_HEADER: outgoing_request_id(), **(headers or {})}
    attempts = len(backoff) + 1
    for attempt in range(1, attempts + 1):
        if before_attempt is not None:
            before_attempt()
        started = time.monotonic()
        try:
            response = session().request(method, url, timeout=timeout, headers=headers, **kwargs)
        except requests.RequestException as exc:
            _log(service, endpoint, method, job_id, type(exc).__name__, attempt, started)
            if attempt < attempts:
                sleep(backoff[attempt - 1])
                continue
            raise UpstreamUnreachable(f"{service} {endpoint}") from exc
        if after_answer is not None:
            after_answer(response)
        _log(
            service,
            endpoint,
            method,
            job_id,
            response.status_code,
            attempt,
            started,
            upstream_request_id(response),
        )
        if response.status_code >= 500 and attempt < attempts:
            response.close()
            sleep(backoff[attempt - 1])
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def _log(service, endpoint, method, job_id, status, attempt, started, upstream_id=None) -> None:
    logger.info(
        "upstream call",
        extra={
            "upstream": service,
            "endpoint": f"{method} {endpoint}",
            "job_id": job_id,
            "status": status,
            "attempt": attempt,
            "duration_ms": round((time.monotonic() - started) * 1000),
            "upstream_request_id": upstream_id,
        },
    )


def error_code(response: requests.Response) -> str:
    """The error code of an upstream answer, or "" when the body is not the expected JSON.

    The converter answers ``{"error": {"code": ...}}``, Member Center a plain
    OAuth2 ``{"error": "invalid_client"}``; anything else is an empty error.
    """
    body = json_or_none(response)
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        return code if isinstance(code, str) else ""
    return error if isinstance(error, str) else ""


def error_details(response: requests.Response) -> dict:
    body = json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        details = body["error"].get("details")
        if isinstance(details, dict):
            return details
    return {}


def json_or_none(response: requests.Response) -> Any:
    """The answer's JSON, or None when it is not JSON or holds text that is not valid
    Unicode (a lone surrogate would fail later, wherever it was stored or shown)."""
    try:
        return parsers.loads(response.content)
    except ValueError:
        return None


def retry_after(response: requests.Response, default: int = 30) -> str:
    """A sane Retry-After (seconds) to pass on; never the upstream's raw text."""
    value = response.headers.get("Retry-After", "")
    return str(min(int(value), 3600)) if value.isdigit() else str(default)
