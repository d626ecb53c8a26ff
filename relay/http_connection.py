"""One HTTP/1.1 client connection of the internal port: h11's state and the socket.

The client is a web instance (the streamed path) or nginx (the offloaded one).
Writes wait for the socket to drain (backpressure), within a deadline the
exchange gives; ``peer_gone`` notices a client that hung up while nothing is
being written (a silent device), so its stream is reset within seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11

READ_BYTES = 256 * 1024
# A body chunk at least this large goes to the socket as it is, not joined to its
# chunk header (a copy of every byte of the answer).
PASSTHROUGH_BYTES = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024
Headers = list[tuple[bytes, bytes]]


class ConnectionAborted(Exception):
    """Close this client connection now (the answer cannot be finished)."""


class HttpConnection:
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

    async def peer_gone(self) -> None:
        """Return once the client closed its end (EOF or reset); only while no
        request body is being read. Bytes that arrive meanwhile (a pipelined next
        request) are kept for h11."""
        while True:
            try:
                data = await self.reader.read(READ_BYTES)
            except ConnectionError:
                return
            if not data:
                return
            self.conn.receive_data(data)

    def request_complete(self) -> bool:
        """Whether the request was read to its end (a bodiless one has just its end left)."""
        while not self.aborted and self.conn.their_state is h11.SEND_BODY:
            event = self.conn.next_event()
            if not isinstance(event, h11.EndOfMessage):
                return False  # body left unread: this connection cannot carry another
        return self.conn.their_state is h11.DONE

    async def send(self, event: h11.Event, *, timeout: float | None = None) -> None:
        if self.aborted:
            raise ConnectionAborted()
        pieces = self.conn.send_with_data_passthrough(event)
        if not pieces:
            return
        if sum(map(len, pieces)) < PASSTHROUGH_BYTES:
            self.writer.write(b"".join(pieces))
        else:
            for piece in pieces:
                self.writer.write(piece)
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
        except TimeoutError:
            # The client reads too slowly for the exchange's deadline.
            self.abort()
            raise ConnectionAborted() from None

    def abort(self) -> None:
        self.aborted = True

    def started(self) -> bool:
        """Whether the answer's head went out (an error can no longer be sent)."""
        return self.conn.our_state is not h11.SEND_RESPONSE

    async def send_simple(self, status: int, headers: Headers, body: bytes) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        if self.conn.their_state is not h11.DONE:
            # The body will not be read: say so, and close after the answer.
            headers.append((b"connection", b"close"))
        await self.send(h11.Response(status_code=status, headers=headers))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def send_json(
        self, status: int, payload: dict[str, Any], headers: Headers | None = None
    ) -> None:
        # As DRF renders it: compact, UTF-8.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        has_type = any(name.lower() == b"content-type" for name, _value in headers or [])
        base = [] if has_type else [(b"content-type", b"application/json")]
        await self.send_simple(status, [*base, *(headers or [])], body)
