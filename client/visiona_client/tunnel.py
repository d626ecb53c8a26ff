"""The agent's end of the tunnel: it dials the relay, and dials again when the tunnel drops.

The agent dials the relay URL visionA names (``tunnel_url``) with its device
token. Each binary WebSocket message carries the next bytes of one HTTP/2
connection in which the relay is the client and the agent the server
(visiona_client/tunnel_streams.py serves it).

The token goes in the handshake's Authorization header only; it is never logged.
The relay's handshake answer says how often to ping the WebSocket
(``X-Visiona-Ping-Interval``, 30 s by default): the pings are how the relay knows the
device is alive, and how the agent finds a dead relay (no pong within 15 s).

A 401/403 handshake is a refusal (``TunnelRefused``); any other failure is retried
with ``Backoff`` (full jitter, 1 s up to 60 s), a 503 (the relay cannot check
tokens right now) quietly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Callable

import h2.exceptions
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from visiona_client.backoff import Backoff, retry_after_seconds
from visiona_client.local_answers import LOCAL_READ_TIMEOUT_SECONDS
from visiona_client.tunnel_control import ControlPaths
from visiona_client.tunnel_streams import MESSAGE_BYTES, H2Server

logger = logging.getLogger(__name__)


PING_INTERVAL_HEADER = "X-Visiona-Ping-Interval"
# A relay that names no interval predates the hint and closes tunnels silent for 25 s.
DEFAULT_PING_SECONDS = 15.0
PING_SECONDS_RANGE = (5.0, 60.0)  # past 60, nginx in front may find the tunnel idle


def ping_interval(headers: Mapping[str, str]) -> float:
    """The ping interval the relay asked for in its handshake answer, kept within
    ``PING_SECONDS_RANGE``; ``DEFAULT_PING_SECONDS`` when it named none or garbage."""
    try:
        seconds = float(headers.get(PING_INTERVAL_HEADER) or "")
    except ValueError:
        return DEFAULT_PING_SECONDS
    if seconds != seconds:  # NaN
        return DEFAULT_PING_SECONDS
    low, high = PING_SECONDS_RANGE
    return min(max(seconds, low), high)


# The relay's own deadline for an answer's head and between its bytes (the longer of
# RELAY_REQUEST_TIMEOUT_SECONDS and RELAY_IDLE_TIMEOUT_SECONDS): past it the relay has
# answered the user 504 or cut the body and reset the stream, so waiting longer on the
# local API only holds one of the agent's stream workers (a silent local API held one
# for LOCAL_READ_TIMEOUT_SECONDS, 300 s, whatever the relay had given up).
IDLE_DEADLINE_HEADER = "X-Visiona-Idle-Deadline"
IDLE_MARGIN_SECONDS = 5.0


def local_read_timeout(headers: Mapping[str, str]) -> float:
    """How long the agent waits for the local API's next bytes: the relay's idle
    deadline and a margin, at most ``LOCAL_READ_TIMEOUT_SECONDS``, which is also
    the wait with a relay that names none (or garbage)."""
    try:
        seconds = float(headers.get(IDLE_DEADLINE_HEADER) or "")
    except ValueError:
        return LOCAL_READ_TIMEOUT_SECONDS
    if seconds != seconds or seconds <= 0:  # NaN, or nothing to go by
        return LOCAL_READ_TIMEOUT_SECONDS
    return min(seconds + IDLE_MARGIN_SECONDS, LOCAL_READ_TIMEOUT_SECONDS)


class TunnelRefused(Exception):
    """The relay refused the handshake: the token is revoked or expired, or the device unpaired."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the relay refused the tunnel (HTTP {status})")
        self.status = status


class TunnelClient:
    """Holds the tunnel: dial, serve until it drops, dial again after a backoff."""

    def __init__(
        self,
        *,
        token: str,
        local_url: str,
        user_agent: str,
        tunnel_url: Callable[[], str | None],
        stopping: threading.Event,
        backoff: Backoff | None = None,
        control: ControlPaths | None = None,
    ) -> None:
        self._token = token
        self.control = control or ControlPaths()
        self.local_url = local_url.rstrip("/")
        self.user_agent = user_agent
        self._tunnel_url = tunnel_url
        self._stopping = stopping
        self.backoff = backoff or Backoff()
        # How often this tunnel pings, as the relay asked in the last handshake.
        self.ping_seconds = DEFAULT_PING_SECONDS
        self.connections = 0  # opened so far (tests and logs)
        self._websocket: ClientConnection | None = None
        # When the tunnel last went down (or this client started): the agent's heartbeats
        # stay quiet for a while after it (visiona_client.agent).
        self.down_since = time.monotonic()

    def run(self) -> None:
        """Until ``stopping`` is set; raises TunnelRefused on a refused handshake."""
        while not self._stopping.is_set():
            url = self._tunnel_url()
            if not url:
                self._stopping.wait(1.0)
                continue
            try:
                self._connect_and_serve(url)
            except TunnelRefused:
                raise
            except (OSError, WebSocketException, h2.exceptions.ProtocolError) as exc:
                # A busy relay names when to come back (its own spread over the agents it
                # turned away): that, not a backoff grown by its refusals.
                delay = retry_after(exc)
                if delay is None:
                    delay = self.backoff.next_delay()
                # A relay that cannot check tokens right now (503) is not news: quietly.
                level = logging.INFO if _unavailable(exc) else logging.WARNING
                logger.log(
                    level, "tunnel to %s: %s; dialling again in %.1f s", url, _describe(exc), delay
                )
                self._stopping.wait(delay)
                continue
            if not self._stopping.is_set():
                delay = self.backoff.next_delay()
                logger.info("tunnel closed by the relay; dialling again in %.1f s", delay)
                self._stopping.wait(delay)

    @property
    def connected(self) -> bool:
        return self._websocket is not None

    def stop(self) -> None:
        websocket = self._websocket
        if websocket is not None:
            websocket.close()

    def _connect_and_serve(self, url: str) -> None:
        try:
            websocket = connect(
                url,
                additional_headers={
                    "Authorization": f"Bearer {self._token}",
                    "X-Visiona-Agent": self.user_agent,
                },
                user_agent_header=self.user_agent,
                compression=None,
                open_timeout=10,
                ping_interval=DEFAULT_PING_SECONDS,
                ping_timeout=15,
                max_size=MESSAGE_BYTES * 4,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise TunnelRefused(status) from None
            raise
        # The keepalive thread reads this before each wait: the first ping comes after
        # the default, the rest at the relay's interval.
        answer = websocket.response  # set once connect() returned
        headers = answer.headers if answer is not None else {}
        websocket.ping_interval = self.ping_seconds = ping_interval(headers)
        read_timeout = local_read_timeout(headers)
        self._websocket = websocket
        self.connections += 1
        logger.info("tunnel open to %s (a ping every %g s)", url, self.ping_seconds)
        self.backoff.reset()
        # As a context manager: websockets 17.1 deprecates using connect()'s result bare.
        with websocket:
            try:
                H2Server(websocket, self.local_url, self.control, read_timeout=read_timeout).serve()
            finally:
                self._websocket = None
                self.down_since = time.monotonic()


def retry_after(exc: Exception) -> float | None:
    """The seconds a refused handshake's ``Retry-After`` names (503 from a busy relay)."""
    if not isinstance(exc, InvalidStatus):
        return None
    return retry_after_seconds(exc.response.headers.get("Retry-After"))


def _unavailable(exc: Exception) -> bool:
    return isinstance(exc, InvalidStatus) and exc.response.status_code in (502, 503, 504)


def _describe(exc: Exception) -> str:
    if isinstance(exc, InvalidStatus):
        return f"the relay answered HTTP {exc.response.status_code}"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
