"""The agent's end of the tunnel: an HTTP/2 server over a WebSocket it dials out.

The agent dials the relay URL visionA names (``tunnel_url``) with its device
token. Each binary WebSocket message carries the next bytes of one HTTP/2
connection in which the relay is the client and the agent the server; each
HTTP/2 stream is one request for the local device API, forwarded with
``requests`` and answered as it comes:

- the request body is handed to ``requests`` chunk by chunk, and a chunk's
  window reopens only once ``requests`` took it;
- the answer is sent as fast as the relay's windows allow, so a slow reader at
  the far end holds back this stream only (and its thread), never the others.

The token goes in the handshake's Authorization header only; it is never logged.
A 401/403 handshake is a refusal (``TunnelRefused``); any other failure is retried
with ``Backoff`` (full jitter, 1 s up to 60 s). Paths under ``/_visiona/`` are the
agent's own (``visiona_client.tunnel_control``): answered here, never forwarded.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Union, cast

import h2.config
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame
import requests
import requests.adapters
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from visiona_client.backoff import Backoff
from visiona_client.h2_output import PiecewiseH2Connection
from visiona_client.tunnel_control import ControlPaths, is_control_path

logger = logging.getLogger(__name__)


def _data_frame_repr(self: hyperframe.frame.DataFrame) -> str:
    return f"<{len(self.data)} bytes: {self.data[:10].hex()}...>"


# h2 formats every frame it receives for a trace log line, logged or not
# (``logger.trace("Received frame: %s", repr(frame))``), and hyperframe's repr of a
# DATA frame copies and hex-encodes its whole payload: a third of the relay's CPU
# time on a large answer. A repr of the first bytes costs nothing.
hyperframe.frame.DataFrame._body_repr = _data_frame_repr  # type: ignore[method-assign,assignment]

MAX_STREAMS = 100
STREAM_WINDOW = 1024 * 1024
CONNECTION_WINDOW = 16 * 1024 * 1024
MAX_FRAME_SIZE = 256 * 1024
MESSAGE_BYTES = 2 * 1024 * 1024
READ_BYTES = 1024 * 1024
LOCAL_CONNECT_TIMEOUT_SECONDS = 5.0
LOCAL_READ_TIMEOUT_SECONDS = 300.0
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "host",
    }
)


class TunnelRefused(Exception):
    """The relay refused the handshake: the token is revoked or expired, or the device unpaired."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the relay refused the tunnel (HTTP {status})")
        self.status = status


class _StreamGone(Exception):
    """The relay reset the stream, or the tunnel closed."""


# What a stream's body queue carries: (data, flow-controlled length), None at its
# end, _StreamGone when the relay reset it or the tunnel closed.
_BodyItem = Union[tuple[bytes, int], _StreamGone, None]


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
        self.connections = 0  # opened so far (tests and logs)
        self._websocket: ClientConnection | None = None

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
                delay = self.backoff.next_delay()
                logger.warning(
                    "tunnel to %s: %s; dialling again in %.1f s", url, _describe(exc), delay
                )
                self._stopping.wait(delay)
                continue
            if not self._stopping.is_set():
                delay = self.backoff.next_delay()
                logger.info("tunnel closed by the relay; dialling again in %.1f s", delay)
                self._stopping.wait(delay)

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
                ping_interval=15,
                ping_timeout=15,
                max_size=MESSAGE_BYTES * 4,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise TunnelRefused(status) from None
            raise
        self._websocket = websocket
        self.connections += 1
        logger.info("tunnel open to %s", url)
        self.backoff.reset()
        # As a context manager: websockets 17.1 deprecates using connect()'s result bare.
        with websocket:
            try:
                _H2Server(websocket, self.local_url, self.control).serve()
            finally:
                self._websocket = None


class _H2Server:
    """One tunnel connection: the HTTP/2 server side, a thread per live stream."""

    def __init__(self, websocket: ClientConnection, local_url: str, control: ControlPaths) -> None:
        self.websocket = websocket
        self.local_url = local_url
        self.control = control
        self.conn = PiecewiseH2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="latin-1")
        )
        # Guards the h2 state and the order of what goes on the wire.
        self.lock = threading.Condition()
        self.bodies: dict[int, queue.Queue[_BodyItem]] = {}
        self.connection_credit = 0  # received bytes not yet given back to the relay
        self.closed = False
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_STREAMS)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.trust_env = False  # the local device API is never behind a proxy

    def serve(self) -> None:
        with self.lock:
            self.conn.initiate_connection()
            self.conn.update_settings(
                {
                    h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                    h2.settings.SettingCodes.MAX_FRAME_SIZE: MAX_FRAME_SIZE,
                }
            )
            self.conn.increment_flow_control_window(CONNECTION_WINDOW - 65535)
            self._flush()
        workers = ThreadPoolExecutor(max_workers=MAX_STREAMS, thread_name_prefix="tunnel-stream")
        try:
            for message in self.websocket:
                if isinstance(message, str):
                    break
                with self.lock:
                    events = self.conn.receive_data(message)
                    for event in events:
                        self._handle(event, workers)
                    self._flush()
                    self.lock.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.closed = True
                for body in self.bodies.values():
                    body.put(_StreamGone())
                self.lock.notify_all()
            workers.shutdown(wait=False, cancel_futures=True)
            self.http.close()

    # With the lock held ------------------------------------------------------

    def _handle(self, event: h2.events.Event, workers: ThreadPoolExecutor) -> None:
        if isinstance(event, h2.events.RequestReceived):
            stream_body: queue.Queue[_BodyItem] = queue.Queue()
            self.bodies[event.stream_id] = stream_body
            # str names and values: the connection decodes them (header_encoding).
            headers = cast("list[tuple[str, str]]", event.headers)
            # A request without a body ends with its headers: StreamEnded follows.
            workers.submit(self._exchange, event.stream_id, headers, stream_body)
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                # Connection window back on arrival, in steps of a quarter of it (not
                # one WINDOW_UPDATE per DATA frame); the stream's as requests reads it.
                self.connection_credit += event.flow_controlled_length
                if self.connection_credit >= CONNECTION_WINDOW // 4:
                    self.conn.increment_flow_control_window(self.connection_credit)
                    self.connection_credit = 0
            body = self.bodies.get(event.stream_id)
            if body is not None:
                body.put((event.data, event.flow_controlled_length))
        elif isinstance(event, h2.events.StreamEnded):
            body = self.bodies.get(event.stream_id)
            if body is not None:
                body.put(None)
        elif isinstance(event, h2.events.StreamReset):
            body = self.bodies.pop(event.stream_id, None)
            if body is not None:
                body.put(_StreamGone())
        elif isinstance(event, h2.events.ConnectionTerminated):
            # GOAWAY: the relay replaced or closed this tunnel; its close follows.
            logger.info("the relay closed the tunnel (GOAWAY)")

    def _flush(self) -> None:
        # Each piece as a message of its own (a large DATA payload as the local API
        # gave it: see h2_output), none longer than MESSAGE_BYTES.
        for piece in self.conn.pieces_to_send():
            if len(piece) <= MESSAGE_BYTES:
                self.websocket.send(piece)
                continue
            view = memoryview(piece)
            for start in range(0, len(view), MESSAGE_BYTES):
                self.websocket.send(view[start : start + MESSAGE_BYTES])

    # In a stream's worker thread ----------------------------------------------

    def _exchange(
        self, stream_id: int, headers: list[tuple[str, str]], body: queue.Queue[_BodyItem]
    ) -> None:
        try:
            self._forward(stream_id, headers, body)
        except _StreamGone:
            logger.debug("tunnel stream %d: the relay reset it or the tunnel closed", stream_id)
        except Exception:
            logger.exception("tunnel stream %d failed", stream_id)
            self._reset(stream_id)
        finally:
            with self.lock:
                self.bodies.pop(stream_id, None)

    def _forward(
        self, stream_id: int, headers: list[tuple[str, str]], body: queue.Queue[_BodyItem]
    ) -> None:
        pseudo = {name: value for name, value in headers if name.startswith(":")}
        forwarded = {
            name: value
            for name, value in headers
            if not name.startswith(":") and name not in _HOP_BY_HOP
        }
        method, path = pseudo.get(":method", "GET"), pseudo.get(":path", "/")
        logger.debug("tunnel stream %d: %s %s", stream_id, method, path)
        first = body.get()
        if isinstance(first, _StreamGone):
            raise first
        if is_control_path(path):
            if first is not None:
                for _ in self._body_chunks(stream_id, first, body):
                    pass  # read (its window given back) and set aside
            request_id = dict(headers).get("x-request-id", "")
            self._send_json(stream_id, *self.control.answer(method, path, request_id))
            return
        data: Iterable[bytes] | None = None
        if first is not None:
            data = self._body_chunks(stream_id, first, body)
            length = forwarded.pop("content-length", None)
            if length is not None and length.isdigit():
                # An iterable with a length: requests sends Content-Length, not chunks.
                data = _SizedBody(data, int(length))
        try:
            answer = self.http.request(
                method,
                self.local_url + path,
                headers=forwarded,
                data=data,
                stream=True,
                allow_redirects=False,
                timeout=(LOCAL_CONNECT_TIMEOUT_SECONDS, LOCAL_READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as exc:
            logger.warning("the local device API did not answer %s %s: %s", method, path, exc)
            self._send_unreachable(stream_id, headers)
            return
        with answer:
            response_headers = [(":status", str(answer.status_code))]
            response_headers += [
                (name.lower(), value)
                for name, value in answer.raw.headers.items()
                # A length we cannot promise: the answer is forwarded as it streams.
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
            ]
            self._send_headers(stream_id, response_headers, end_stream=False)
            try:
                for chunk in answer.raw.stream(READ_BYTES, decode_content=False):
                    self._send_data(stream_id, chunk)
            except (requests.RequestException, OSError) as exc:
                logger.warning("the local device API broke off %s %s: %s", method, path, exc)
                self._reset(stream_id)
                return
            except Exception as exc:  # urllib3's own protocol errors
                if isinstance(exc, _StreamGone):
                    raise
                logger.warning("the local device API broke off %s %s: %s", method, path, exc)
                self._reset(stream_id)
                return
            self._end(stream_id)

    def _body_chunks(
        self, stream_id: int, first: _BodyItem, body: queue.Queue[_BodyItem]
    ) -> Iterator[bytes]:
        item = first
        while item is not None:
            if isinstance(item, _StreamGone):
                raise item
            data, flow_length = item
            yield data
            # requests took it: the relay may send this much more.
            with self.lock:
                if flow_length and not self.closed:
                    try:
                        self.conn.increment_flow_control_window(flow_length, stream_id=stream_id)
                        self._flush()
                    except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                        pass
            item = body.get()

    def _send_unreachable(self, stream_id: int, request_headers: list[tuple[str, str]]) -> None:
        request_id = dict(request_headers).get("x-request-id", "")
        payload = {
            "error": {
                "code": "device_unreachable",
                "message": "The device's local API does not answer.",
                "details": {},
                "request_id": request_id,
            }
        }
        self._send_json(stream_id, 502, payload)

    def _send_json(self, stream_id: int, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        headers = [(":status", str(status)), ("content-type", "application/json")]
        self._send_headers(stream_id, headers, end_stream=False)
        self._send_data(stream_id, data)
        self._end(stream_id)

    def _check(self, stream_id: int) -> None:
        if self.closed or stream_id not in self.bodies:
            raise _StreamGone()

    def _send_headers(
        self, stream_id: int, headers: list[tuple[str, str]], *, end_stream: bool
    ) -> None:
        with self.lock:
            self._check(stream_id)
            try:
                self.conn.send_headers(stream_id, headers, end_stream=end_stream)
            except h2.exceptions.StreamClosedError:
                raise _StreamGone() from None
            self._flush()

    def _send_data(self, stream_id: int, data: bytes) -> None:
        view = memoryview(data)
        with self.lock:
            while view:
                self._check(stream_id)
                try:
                    window = self.conn.local_flow_control_window(stream_id)
                except h2.exceptions.StreamClosedError:
                    raise _StreamGone() from None
                size = min(window, self.conn.max_outbound_frame_size, len(view))
                if size <= 0:
                    # Backpressure: wait for the relay's WINDOW_UPDATE (or a reset).
                    self.lock.wait(timeout=5.0)
                    continue
                # A whole chunk goes as it is: no copy of it.
                piece = data if size == len(data) else view[:size].tobytes()
                self.conn.send_data(stream_id, piece)
                view = view[size:]
                self._flush()

    def _end(self, stream_id: int) -> None:
        with self.lock:
            self._check(stream_id)
            try:
                self.conn.end_stream(stream_id)
            except h2.exceptions.StreamClosedError:
                raise _StreamGone() from None
            self._flush()

    def _reset(self, stream_id: int) -> None:
        with self.lock:
            if self.closed:
                return
            try:
                self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                self._flush()
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                pass


class _SizedBody:
    def __init__(self, chunks: Iterator[bytes], length: int) -> None:
        self._chunks = chunks
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def __len__(self) -> int:
        return self._length


def _describe(exc: Exception) -> str:
    if isinstance(exc, InvalidStatus):
        return f"the relay answered HTTP {exc.response.status_code}"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
