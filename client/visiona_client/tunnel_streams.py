"""One tunnel connection, the agent's side: an HTTP/2 server over the WebSocket it dialled.

Each HTTP/2 stream is one request for the local device API, forwarded with
``requests`` (visiona_client/local_answers.py) and answered as it comes:

- the request body is handed to ``requests`` chunk by chunk, and a chunk's
  window reopens only once ``requests`` took it;
- the answer is sent as fast as the relay's windows allow, so a slow reader at
  the far end holds back this stream only (and its thread), never the others.

Paths under ``/_visiona/`` are the agent's own (``visiona_client.tunnel_control``):
answered here, never forwarded.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Union, cast

import h2.config
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import requests
import requests.adapters
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from visiona_client.h2_internals import PiecewiseH2Connection, quiet_frame_logging
from visiona_client.local_answers import (
    HOP_BY_HOP,
    LOCAL_CONNECT_TIMEOUT_SECONDS,
    LOCAL_READ_TIMEOUT_SECONDS,
    SizedBody,
    abandon,
    answer_headers,
    answer_pieces,
)
from visiona_client.tunnel_control import ControlPaths, is_control_path

logger = logging.getLogger(__name__)

quiet_frame_logging()

MAX_STREAMS = 100
STREAM_WINDOW = 1024 * 1024
CONNECTION_WINDOW = 16 * 1024 * 1024
MAX_FRAME_SIZE = 256 * 1024
MESSAGE_BYTES = 2 * 1024 * 1024


class _StreamGone(Exception):
    """The relay reset the stream, or the tunnel closed."""


# What a stream's body queue carries: (data, flow-controlled length), None at its
# end, _StreamGone when the relay reset it or the tunnel closed.
_BodyItem = Union[tuple[bytes, int], _StreamGone, None]


class H2Server:
    """One tunnel connection: the HTTP/2 server side, a thread per live stream."""

    def __init__(
        self,
        websocket: ClientConnection,
        local_url: str,
        control: ControlPaths,
        *,
        read_timeout: float = LOCAL_READ_TIMEOUT_SECONDS,
    ) -> None:
        self.websocket = websocket
        self.local_url = local_url
        self.control = control
        # Between the local API's bytes (the relay's idle deadline, tunnel.py).
        self.read_timeout = read_timeout
        self.conn = PiecewiseH2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="latin-1")
        )
        # Guards the h2 state and the order of what goes on the wire.
        self.lock = threading.Condition()
        self.bodies: dict[int, queue.Queue[_BodyItem]] = {}
        # The local API's answers being forwarded, by stream: a reset stream's answer is
        # abandoned at once (its socket shut), so its worker stops reading it.
        self.answers: dict[int, requests.Response] = {}
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
                for answer in self.answers.values():
                    abandon(answer)
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
            answer = self.answers.pop(event.stream_id, None)
            if answer is not None:
                abandon(answer)
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
                self.answers.pop(stream_id, None)

    def _forward(
        self, stream_id: int, headers: list[tuple[str, str]], body: queue.Queue[_BodyItem]
    ) -> None:
        pseudo = {name: value for name, value in headers if name.startswith(":")}
        forwarded = {
            name: value
            for name, value in headers
            if not name.startswith(":") and name not in HOP_BY_HOP
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
                data = SizedBody(data, int(length))
        try:
            answer = self.http.request(
                method,
                self.local_url + path,
                headers=forwarded,
                data=data,
                stream=True,
                allow_redirects=False,
                timeout=(LOCAL_CONNECT_TIMEOUT_SECONDS, self.read_timeout),
            )
        except requests.RequestException as exc:
            logger.warning("the local device API did not answer %s %s: %s", method, path, exc)
            self._send_error(
                stream_id,
                headers,
                502,
                "device_unreachable",
                "The device's local API does not answer.",
            )
            return
        if not 200 <= answer.status_code <= 599:
            # A 1xx as a final answer, or a number HTTP has no meaning for: garbage.
            logger.warning("the local device API answered status %s", answer.status_code)
            answer.close()
            self._send_error(
                stream_id,
                headers,
                502,
                "device_bad_answer",
                "The device's local API sent an answer that is not valid HTTP.",
            )
            return
        with self.lock:
            if self.closed or stream_id not in self.bodies:
                answer.close()
                raise _StreamGone()
            self.answers[stream_id] = answer
        with answer:
            response_headers = answer_headers(answer.status_code, answer.raw.headers)
            self._send_headers(stream_id, response_headers, end_stream=False)
            try:
                for chunk in answer_pieces(answer.raw):
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

    def _send_error(
        self,
        stream_id: int,
        request_headers: list[tuple[str, str]],
        status: int,
        code: str,
        message: str,
    ) -> None:
        request_id = dict(request_headers).get("x-request-id", "")
        payload = {
            "error": {"code": code, "message": message, "details": {}, "request_id": request_id}
        }
        self._send_json(stream_id, status, payload)

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
