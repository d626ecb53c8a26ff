"""The web side's client of a relay node's internal port (docs/tunnel.md).

One HTTP exchange with a device's local API, relayed through the node that holds
its tunnel: the request body is streamed from the incoming request as it is read,
the answer is streamed back as the node sends it. Nothing is held whole.

Which headers cross is decided here, in both directions: the user's cookies,
CSRF token and Authorization never reach the agent; nothing in the agent's answer
may act on visionA's origin (cookies, CORS, security policies, cache rules).
Every failure leaves as one of the AppErrors in ``devices.errors``.
"""

from __future__ import annotations

import errno
import http.cookiejar
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol
from urllib.parse import quote

import requests
import urllib3
from django.conf import settings

from devices import errors, relay_answer
from visiona.api import parsers

logger = logging.getLogger("devices.relay")

_local = threading.local()

# 1 MiB reads: gunicorn copies its buffer on every read, so small reads of a
# large body cost (docs/architecture.md, "Read size"); the answer uses the same size.
CHUNK_SIZE = 1024 * 1024
# The node is on our own network: a connection that takes longer is a dead node.
CONNECT_TIMEOUT = 3.0
# The node answers 504 itself after RELAY_REQUEST_TIMEOUT_SECONDS; we wait a
# little longer so its own, better, answer arrives first.
READ_TIMEOUT_MARGIN = 5.0

SECRET_HEADER = "X-Relay-Secret"
ERROR_HEADER = relay_answer.ERROR_HEADER
REQUEST_ID_HEADER = relay_answer.REQUEST_ID_HEADER
HOP_BY_HOP = relay_answer.HOP_BY_HOP

# The user's credentials, and what this client states itself (the node's secret,
# our request id, the exact length of the body it sends, the node's own host).
_NOT_FORWARDED = frozenset(
    {
        "cookie",
        "authorization",
        "host",
        "content-length",
        "expect",
        SECRET_HEADER.lower(),
        REQUEST_ID_HEADER.lower(),
    }
)

# Characters a path segment may hold unquoted (RFC 3986 pchar), and "/".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

_RELAY_ERRORS: dict[str, type[errors.AppError]] = {
    errors.DeviceOffline.code: errors.DeviceOffline,
    errors.DeviceUnreachable.code: errors.DeviceUnreachable,
    errors.DeviceTimeout.code: errors.DeviceTimeout,
    errors.RelayBodyTooLarge.code: errors.RelayBodyTooLarge,
    errors.DeviceBadAnswer.code: errors.DeviceBadAnswer,
}


class ReadableStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class RelayAnswerInterrupted(ConnectionResetError):
    """The answer stopped before its end (tunnel lost, agent gone, a deadline passed).

    Raised while the answer is streamed, after its status went out: the server
    then drops the connection, so the client sees a cut body, never a complete one.
    A connection reset (ECONNRESET) to the WSGI server: gunicorn closes the socket
    without the final chunk and without an ERROR line (it is an expected outcome,
    logged here at WARNING).
    """

    def __init__(self, reason: str = "relayed answer cut short") -> None:
        super().__init__(errno.ECONNRESET, reason)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """A session keeps no cookie: one device's Set-Cookie would otherwise be sent,
    by this shared session, with every later request to any device."""

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False


def session() -> requests.Session:
    # One per thread: sessions pool connections but are not thread-safe (gthread).
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.trust_env = False  # no proxy or netrc credentials on an internal call
        current.cookies.set_policy(_NoCookies())
        _local.session = current
    return current


def _connection_tokens(headers: Mapping[str, str]) -> set[str]:
    # Headers named in Connection are hop-by-hop for this one message.
    value = next((v for k, v in headers.items() if k.lower() == "connection"), "")
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def forwarded_request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The incoming request's headers that go to the agent."""
    csrf_header = settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-").lower()
    dropped = HOP_BY_HOP | _NOT_FORWARDED | _connection_tokens(headers) | {csrf_header}
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in dropped and not name.lower().startswith("x-relay-")
    }


def relayable_path_check(path: str) -> None:
    """``RelayPathInvalid`` for a path that cannot be relayed (see ``relay_target``)."""
    segments = path.split("/")
    if any(segment in {".", ".."} for segment in segments) or "\x00" in path:
        raise errors.RelayPathInvalid()


def relay_target(*, device_id: str, path: str, query: str = "") -> str:
    """The node's path for ``path`` on the device: ``/devices/<id>/<path>?<query>``.

    ``path`` is decoded (as Django's URL resolver gives it) and is quoted again
    here. Dot segments are refused: an HTTP client resolves them, and
    ``<id>/../<other id>/`` would then name another device on the node.
    """
    relayable_path_check(path)
    target = f"/devices/{quote(device_id, safe='')}/{quote(path, safe=_PATH_SAFE)}"
    return f"{target}?{query}" if query else target


class _Body:
    """The incoming body in large reads, exactly ``length`` bytes, with a known length.

    ``__len__`` makes requests send a Content-Length (the node refuses a body over
    its limit before reading it). A client that goes away mid-body makes the
    iteration raise, which aborts the relayed request instead of ending it as if
    complete; the error is kept, because requests may wrap it in its own.
    """

    def __init__(self, stream: ReadableStream, length: int) -> None:
        self._stream = stream
        self._length = length
        self.error: BaseException | None = None

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        remaining = self._length
        while remaining > 0:
            try:
                chunk = self._stream.read(min(CHUNK_SIZE, remaining))
            except OSError as exc:  # Django's UnreadablePostError is one
                self.error = exc
                raise errors.RelayRequestInterrupted() from exc
            if not chunk:
                self.error = errors.RelayRequestInterrupted()
                raise self.error
            remaining -= len(chunk)
            yield chunk


class RelayedAnswer:
    """The agent's answer: status, the headers that may reach the browser, the body.

    Iterate it once for the body (streamed); ``close()`` releases the connection
    whether or not the body was read (StreamingHttpResponse calls it).
    """

    def __init__(self, response: requests.Response, *, device_id: str, device_path: str) -> None:
        self._response = response
        self._closers: list[Callable[[], None]] = []
        self.status = relay_answer.answer_status(response.status_code)
        self.headers = relay_answer.returned_headers(
            response.raw.headers.items(), device_id=device_id, device_path=device_path
        )

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` once the answer is closed (read to its end, cut, or abandoned)."""
        self._closers.append(closer)

    def __iter__(self) -> Iterator[bytes]:
        try:
            # Raw bytes: a compressed answer keeps its Content-Encoding and length.
            # The relay sends what the device sent as it came: each piece read here
            # is passed on at once (read1 returns what arrived; a chunked answer
            # yields each chunk as it is complete).
            yield from self._response.raw.stream(CHUNK_SIZE, decode_content=False)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            logger.warning("relayed answer cut short", extra={"error": type(exc).__name__})
            raise RelayAnswerInterrupted() from exc
        finally:
            self.close()

    def read_json(self, *, limit: int) -> object:
        """The whole body as JSON, for small answers read here; None when it is not
        JSON or is over ``limit`` bytes. Raises ``RelayAnswerInterrupted``."""
        body = b""
        for chunk in self:
            body += chunk
            if len(body) > limit:
                self.close()
                return None
        try:
            return parsers.loads(body)
        except ValueError:  # not JSON, or text that is not valid Unicode
            return None

    def close(self) -> None:
        self._response.close()
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()


def relay(
    *,
    node_url: str,
    device_id: str,
    method: str,
    path: str,
    query: str = "",
    headers: Mapping[str, str],
    body: ReadableStream | None = None,
    content_length: int | None = None,
    request_id: str,
    read_timeout: float | None = None,
) -> RelayedAnswer:
    """Send one request to the device's local API through the node at ``node_url``.

    The answer's body is not read yet: iterate the ``RelayedAnswer``. Raises
    ``RelayBodyTooLarge`` (before any byte leaves), ``RelayPathInvalid``,
    ``RelayRequestInterrupted``, or what the node reported (``DeviceOffline``,
    ``DeviceUnreachable``, ``DeviceTimeout``); an unreachable node is
    ``DeviceUnreachable``, no answer in time ``DeviceTimeout``. ``read_timeout``
    (seconds between bytes of the answer) defaults to a little over the node's own.
    """
    if not settings.RELAY_INTERNAL_SECRET:
        # No relay configured here (run_relay refuses to start without it): no tunnel.
        raise errors.DeviceOffline()
    if content_length and content_length > settings.RELAY_MAX_BODY_BYTES:
        raise errors.RelayBodyTooLarge()
    url = node_url.rstrip("/") + relay_target(device_id=device_id, path=path, query=query)
    outgoing = forwarded_request_headers(headers)
    outgoing[SECRET_HEADER] = settings.RELAY_INTERNAL_SECRET
    outgoing[REQUEST_ID_HEADER] = request_id
    wrapped = _Body(body, content_length) if body is not None and content_length else None
    if read_timeout is None:
        read_timeout = (
            max(settings.RELAY_REQUEST_TIMEOUT_SECONDS, settings.RELAY_IDLE_TIMEOUT_SECONDS)
            + READ_TIMEOUT_MARGIN
        )
    timeout = (CONNECT_TIMEOUT, read_timeout)
    started = time.monotonic()
    try:
        response = session().request(
            method,
            url,
            headers=outgoing,
            data=wrapped,
            stream=True,
            allow_redirects=False,
            timeout=timeout,
        )
    except requests.RequestException as exc:
        _log(device_id, method, type(exc).__name__, started)
        if wrapped is not None and wrapped.error is not None:
            raise errors.RelayRequestInterrupted() from exc
        if isinstance(exc, requests.ReadTimeout):
            raise errors.DeviceTimeout() from exc
        # Refused, reset or no route: the node is down or the registry is stale.
        raise errors.DeviceUnreachable() from exc
    _log(device_id, method, response.status_code, started)
    if wrapped is not None and wrapped.error is not None:
        # The node answered before we finished sending; what broke is our side.
        response.close()
        raise errors.RelayRequestInterrupted()
    _raise_for_relay_error(response)
    device_path = "/" + path + (f"?{query}" if query else "")
    try:
        return RelayedAnswer(response, device_id=device_id, device_path=device_path)
    except errors.DeviceBadAnswer:
        response.close()
        raise


def _raise_for_relay_error(response: requests.Response) -> None:
    code = response.headers.get(ERROR_HEADER)
    if code is None and response.status_code != 401:
        return  # the agent's own answer, whatever its status
    response.close()
    if code is None:
        # Only the node's secret check answers 401 without X-Relay-Error: ours is wrong.
        logger.error("the relay node refused our secret (RELAY_INTERNAL_SECRET differs)")
        raise errors.DeviceUnreachable()
    error = _RELAY_ERRORS.get(code)
    if error is None:
        logger.warning("unknown relay error", extra={"relay_error": code[:64]})
        raise errors.DeviceUnreachable()
    raise error()


def _log(device_id: str, method: str, status, started: float) -> None:
    # No path, query or header: they may carry what the user sent to their device.
    logger.info(
        "relay call",
        extra={
            "device_id": device_id,
            "method": method,
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
