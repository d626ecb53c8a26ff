"""The internal port: web instances reach devices through it, with the shared secret.

HTTP/1.1, parsed by ``h11`` (the python-hyper state machine, twin of ``h2``):

- ``<METHOD> /devices/<device_id>/<path>?<query>`` relays the request as one
  stream of that device's tunnel, both bodies streamed: the request body goes
  out as the agent's windows allow, the answer comes back chunked, and each
  chunk's window reopens only once it was written to this socket and drained —
  a slow reader slows its own stream's sender, and nothing is buffered whole.
- ``GET /sessions`` lists this node's live tunnels.

Every request carries ``X-Relay-Secret``; a wrong or missing one gets a bare 401.
Errors are JSON in the API's envelope with ``X-Relay-Error: <code>``. When an
answer has started and the tunnel fails, the chunked body is cut off (the
connection closed without its last chunk), so no caller mistakes it for whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

import h11

from devices.relay_client import ERROR_HEADER, HOP_BY_HOP, SECRET_HEADER
from relay.h2_session import RelayStream, StreamFailed, TunnelSession
from relay.node import RelayNode

logger = logging.getLogger(__name__)

READ_BYTES = 256 * 1024
PASSTHROUGH_BYTES = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024
# The protocol's header names and the hop-by-hop list are the web side's, defined
# once in devices/relay_client.py (the client of this port).
_SECRET_HEADER = SECRET_HEADER.lower().encode()
_ERROR_HEADER = ERROR_HEADER.lower().encode()
_HOP_BY_HOP = frozenset(name.encode() for name in HOP_BY_HOP)
# Hop-by-hop and routing headers stay on this side; the caller's identity never
# crosses (the web side strips them too).
_NOT_FORWARDED = _HOP_BY_HOP | {
    b"host",
    _SECRET_HEADER,
    b"cookie",
    b"authorization",
    b"x-csrftoken",
}
_NOT_ANSWERED = _HOP_BY_HOP | {b"content-length"}
_MESSAGES = {
    "device_offline": "The device is not connected.",
    "device_unreachable": "The device's tunnel or local API failed during the exchange.",
    "device_timeout": "The device did not answer in time.",
    "payload_too_large": "The request body is larger than the relay accepts.",
    "not_found": "The relay has no such path.",
    "bad_request": "The relay could not read this request.",
}


class _Abort(Exception):
    """Close this client connection now (the answer cannot be finished)."""


class InternalServer:
    def __init__(
        self, node: RelayNode, *, secret: str, max_body_bytes: int, timeout_seconds: float
    ) -> None:
        if not secret:
            raise ValueError("the internal port needs RELAY_INTERNAL_SECRET")
        self.node = node
        self._secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._serve_connection, host, port)

    # Connection -------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        client = _Client(reader, writer)
        try:
            while True:
                event = await client.next_event()
                if not isinstance(event, h11.Request):
                    break
                await self._exchange(client, event)
                if client.conn.our_state is h11.DONE and client.request_complete():
                    client.conn.start_next_cycle()  # keep-alive: the next request
                else:
                    break
        except (_Abort, h11.ProtocolError, ConnectionError, asyncio.IncompleteReadError) as exc:
            logger.debug("internal connection closed: %r", exc)
        finally:
            if client.aborted:
                writer.transport.abort()
            else:
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, client: _Client, request: h11.Request) -> None:
        headers = {name.lower(): value for name, value in request.headers}
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex
        if not hmac.compare_digest(headers.get(_SECRET_HEADER, b""), self._secret):
            await client.send_simple(401, [], b"")
            return
        target = urlsplit(request.target.decode("latin-1"))
        parts = target.path.split("/", 3)
        if request.method == b"GET" and target.path == "/sessions":
            await client.send_json(200, {"sessions": self._sessions()})
        elif len(parts) >= 3 and parts[0] == "" and parts[1] == "devices":
            path = "/" + (parts[3] if len(parts) > 3 else "")
            if target.query:
                path += "?" + target.query
            await self._relay(client, request, parts[2], path, request_id)
        else:
            await client.send_error(404, "not_found", request_id)

    def _sessions(self) -> list[dict[str, str]]:
        return [
            {
                "device_id": session.device_id,
                "connection_id": session.connection_id,
                "connected_at": session.connected_at.isoformat(),
            }
            for session in self.node.sessions.values()
        ]

    # Relaying ------------------------------------------------------------------

    async def _relay(
        self, client: _Client, request: h11.Request, raw_device: str, path: str, request_id: str
    ) -> None:
        try:
            device_id = str(uuid.UUID(raw_device))
        except ValueError:
            device_id = ""
        session = self.node.sessions.get(device_id)
        if session is None:
            await client.send_error(503, "device_offline", request_id)
            return
        declared = _content_length(request)
        chunked = any(name.lower() == b"transfer-encoding" for name, _value in request.headers)
        if declared is not None and declared > self.max_body_bytes:
            await client.send_error(413, "payload_too_large", request_id)
            return
        has_body = chunked or bool(declared)
        h2_headers = [
            (b":method", request.method),
            (b":scheme", b"http"),
            (b":authority", b"device"),
            (b":path", path.encode("latin-1")),
        ]
        h2_headers += [
            (name.lower(), value)
            for name, value in request.headers
            if name.lower() not in _NOT_FORWARDED
        ]
        if not any(name == b"x-request-id" for name, _value in h2_headers):
            h2_headers.append((b"x-request-id", request_id.encode("latin-1")))
        try:
            stream = await session.open_stream(h2_headers, end_stream=not has_body)
        except StreamFailed:
            await client.send_error(503, "device_offline", request_id)
            return
        too_large = asyncio.Event()
        upload = (
            asyncio.create_task(self._upload(client, session, stream, too_large))
            if has_body
            else None
        )
        try:
            await self._answer(client, stream, request, request_id, too_large, upload)
        finally:
            if upload is not None and not upload.done():
                upload.cancel()
                with contextlib.suppress(BaseException):
                    await upload
                client.abort()  # the rest of the request body was never read
            elif upload is not None and not upload.cancelled() and upload.exception():
                client.abort()  # the body could not be passed on: this connection is done

    async def _upload(
        self, client: _Client, session: TunnelSession, stream: RelayStream, too_large: asyncio.Event
    ) -> None:
        total = 0
        while True:
            event = await client.next_event()
            if isinstance(event, h11.Data):
                total += len(event.data)
                if total > self.max_body_bytes:
                    too_large.set()
                    stream.cancel()
                    return
                await session.send_body(stream, event.data)
            elif isinstance(event, h11.EndOfMessage):
                session.end_body(stream)
                return
            else:
                raise _Abort()

    async def _answer(
        self,
        client: _Client,
        stream: RelayStream,
        request: h11.Request,
        request_id: str,
        too_large: asyncio.Event,
        upload: asyncio.Task[None] | None,
    ) -> None:
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(stream.headers),
            asyncio.ensure_future(too_large.wait()),
        ]
        if upload is not None:
            waiters.append(upload)
        try:
            done, _pending = await asyncio.wait(
                waiters, timeout=self.timeout_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            while (
                upload is not None
                and upload in done
                and not stream.headers.done()
                and not too_large.is_set()
            ):
                if upload.exception() is not None:
                    stream.cancel()
                    raise _Abort() from upload.exception()
                waiters.remove(upload)
                done, _pending = await asyncio.wait(
                    waiters, timeout=self.timeout_seconds, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            for waiter in waiters[1:2]:
                waiter.cancel()
        if too_large.is_set():
            await client.send_error(413, "payload_too_large", request_id)
            return
        if not stream.headers.done():
            stream.cancel()
            await client.send_error(504, "device_timeout", request_id)
            return
        try:
            answer = stream.headers.result()
        except StreamFailed:
            await client.send_error(502, "device_unreachable", request_id)
            return
        status = int(dict(answer).get(b":status", b"502"))
        headers = [
            (name, value)
            for name, value in answer
            if not name.startswith(b":") and name not in _NOT_ANSWERED
        ]
        head = request.method == b"HEAD" or status in (204, 304)
        if not head:
            headers.append((b"transfer-encoding", b"chunked"))
        await client.send(h11.Response(status_code=status, headers=headers))
        await self._stream_answer(client, stream, discard=head)

    async def _stream_answer(self, client: _Client, stream: RelayStream, *, discard: bool) -> None:
        while True:
            try:
                chunk = await stream.read()
            except StreamFailed:
                logger.info("tunnel failed mid-answer: cutting the response short")
                client.abort()
                raise _Abort() from None
            if chunk is None:
                break
            data, flow_length = chunk
            if data and not discard:
                try:
                    await client.send(h11.Data(data=data))
                except (ConnectionError, _Abort):
                    stream.cancel()
                    raise
            # Only now, written and drained: the agent may send this much more.
            stream.release(flow_length)
        await client.send(h11.EndOfMessage())


class _Client:
    """One HTTP/1.1 client connection: h11 state plus its socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.aborted = False

    async def next_event(self) -> h11.Event | None:
        """The next event; None when h11 pauses (the request is complete)."""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(READ_BYTES))
                continue
            return event if isinstance(event, h11.Event) else None  # h11.PAUSED

    def request_complete(self) -> bool:
        """Whether the request was read to its end (a bodiless one has just its end left)."""
        while not self.aborted and self.conn.their_state is h11.SEND_BODY:
            event = self.conn.next_event()
            if not isinstance(event, h11.EndOfMessage):
                return False  # body left unread: this connection cannot carry another
        return self.conn.their_state is h11.DONE

    async def send(self, event: h11.Event) -> None:
        if self.aborted:
            raise _Abort()
        pieces = self.conn.send_with_data_passthrough(event)
        if not pieces:
            return
        if sum(map(len, pieces)) < PASSTHROUGH_BYTES:
            self.writer.write(b"".join(pieces))
        else:
            # A large body chunk goes to the socket as it is, not joined to its
            # chunk header (a copy of every byte of the answer).
            for piece in pieces:
                self.writer.write(piece)
        await self.writer.drain()

    def abort(self) -> None:
        self.aborted = True

    async def send_simple(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        if self.conn.their_state is not h11.DONE:
            # The body will not be read: say so, and close after the answer.
            headers.append((b"connection", b"close"))
        await self.send(h11.Response(status_code=status, headers=headers))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def send_json(
        self,
        status: int,
        payload: dict[str, Any],
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        await self.send_simple(
            status, [(b"content-type", b"application/json"), *(headers or [])], body
        )

    async def send_error(self, status: int, code: str, request_id: str) -> None:
        envelope = {
            "error": {
                "code": code,
                "message": _MESSAGES[code],
                "details": {},
                "request_id": request_id,
            }
        }
        await self.send_json(status, envelope, [(_ERROR_HEADER, code.encode())])


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name.lower() == b"content-length":
            return int(value)
    return None
