"""One relayed exchange on the internal port: a request to a device, its answer back.

The request becomes one HTTP/2 stream of the device's tunnel; its body goes out as
the agent's windows allow, and the answer comes back chunked, each chunk's window
reopened only once it was written to the caller's socket and drained.

Deadlines (docs/tunnel.md, "Deadlines"), all enforced here:
- the answer's head within ``RELAY_REQUEST_TIMEOUT_SECONDS``: else 504 ``device_timeout``;
- no byte from the device for ``RELAY_IDLE_TIMEOUT_SECONDS`` (or of the request body
  from the caller): 504 before the answer started, the body cut after;
- ``RELAY_EXCHANGE_TIMEOUT_SECONDS`` in all, a slow reader's included.
A cut body is the chunked answer without its final chunk (the connection aborted),
never a short body that looks whole. In every case the stream is reset on the
tunnel (RST_STREAM CANCEL) and the caller's slot freed. A caller that hangs up
(``HttpConnection.peer_gone``) ends the exchange the same way, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import h11

from devices import errors, relay_answer
from relay.answers import UserCaller, WebCaller
from relay.h2_session import TunnelSession
from relay.http_connection import ConnectionAborted, HttpConnection
from relay.relay_stream import RelayStream, StreamFailed

logger = logging.getLogger(__name__)

_STATUS = {
    "device_offline": 503,
    "device_unreachable": 502,
    "device_bad_answer": 502,
    "device_timeout": 504,
    "payload_too_large": 413,
}
# Hop-by-hop and routing headers stay on this side, and every X-Relay-* header (the
# secret, the grant); the caller's identity never crosses (the web side strips them
# too; nginx passes the user's own headers on).
_NOT_FORWARDED = frozenset(name.encode() for name in relay_answer.HOP_BY_HOP) | {
    b"host",
    b"cookie",
    b"authorization",
    b"x-csrftoken",
    b"x-forwarded-for",
    b"x-real-ip",
}


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    head_seconds: float  # the answer's head
    idle_seconds: float  # between bytes
    total_seconds: float  # the whole exchange

    @property
    def quiet_seconds(self) -> float:
        """The longest the device may keep quiet (for the head, or between bytes)
        before this node ends the exchange: told to agents in the handshake."""
        return max(self.head_seconds, self.idle_seconds)


class _Ended(Exception):
    """The exchange ended early; what to tell the caller is in ``code`` (None: cut)."""

    def __init__(self, code: str | None) -> None:
        super().__init__(code or "cut")
        self.code = code


class Exchange:
    def __init__(
        self,
        client: HttpConnection,
        session: TunnelSession,
        request: h11.Request,
        *,
        device_path: str,
        caller: WebCaller | UserCaller,
        limits: Limits,
    ) -> None:
        self.client = client
        self.session = session
        self.request = request
        self.device_path = device_path
        self.caller = caller
        self.limits = limits
        self.deadline = time.monotonic() + limits.total_seconds
        self.stream: RelayStream | None = None

    @property
    def _stream(self) -> RelayStream:
        if self.stream is None:
            raise RuntimeError("the stream is not open yet")
        return self.stream

    def _left(self, seconds: float) -> float:
        return max(0.0, min(seconds, self.deadline - time.monotonic()))

    async def run(self) -> None:
        upload: asyncio.Task[None] | None = None
        try:
            upload = await self._open()
            await self._answer(upload)
        except _Ended as ended:
            await self._end(ended.code)
        except (ConnectionAborted, ConnectionError):
            self._cancel_stream()
            self.client.abort()
        finally:
            if upload is not None and not upload.done():
                upload.cancel()
                self.client.abort()  # the rest of the request body was never read
            self._cancel_stream()
            self.caller.finished()

    async def _end(self, code: str | None) -> None:
        self._cancel_stream()
        if code is None or self.client.started():
            self.client.abort()  # mid-answer: cut, never a short body that looks whole
            return
        payload, headers = self.caller.error(code)
        await self.client.send_json(_STATUS[code], payload, headers)

    def _cancel_stream(self) -> None:
        if self.stream is not None and not self.stream.ended:
            self.stream.cancel()

    # The request -------------------------------------------------------------

    async def _open(self) -> asyncio.Task[None] | None:
        declared = _content_length(self.request)
        if declared is not None and declared > self.limits.max_body_bytes:
            raise _Ended("payload_too_large")
        chunked = any(name.lower() == b"transfer-encoding" for name, _v in self.request.headers)
        has_body = chunked or bool(declared)
        headers = [
            (b":method", self.request.method),
            (b":scheme", b"http"),
            (b":authority", b"device"),
            (b":path", self.device_path.encode("latin-1")),
        ]
        headers += [
            (name.lower(), value)
            for name, value in self.request.headers
            if name.lower() not in _NOT_FORWARDED and not name.lower().startswith(b"x-relay-")
        ]
        headers = [(n, v) for n, v in headers if n != b"x-request-id"]
        headers.append((b"x-request-id", self.caller.request_id.encode("latin-1")))
        try:
            self.stream = await asyncio.wait_for(
                self.session.open_stream(headers, end_stream=not has_body),
                self._left(self.limits.head_seconds),
            )
        except TimeoutError:
            raise _Ended("device_timeout") from None
        except StreamFailed:
            raise _Ended("device_offline") from None
        return asyncio.create_task(self._upload()) if has_body else None

    async def _upload(self) -> None:
        total = 0
        while True:
            try:
                event = await asyncio.wait_for(
                    self.client.next_event(), self._left(self.limits.idle_seconds)
                )
            except TimeoutError:
                raise _Ended("device_timeout") from None
            if isinstance(event, h11.Data):
                total += len(event.data)
                if total > self.limits.max_body_bytes:
                    raise _Ended("payload_too_large")
                await self.session.send_body(self._stream, event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.session.end_body(self._stream)
                return
            else:
                raise ConnectionAborted()

    # The answer ----------------------------------------------------------------

    async def _answer(self, upload: asyncio.Task[None] | None) -> None:
        head = await self._head(upload)
        status = relay_answer_status(head)
        headers = self.caller.answer_headers(head, device_path=self.device_path)
        bodiless = self.request.method == b"HEAD" or status in (204, 304)
        if not bodiless:
            headers.append((b"transfer-encoding", b"chunked"))
        await self.client.send(
            h11.Response(status_code=status, headers=headers), timeout=self._left(3600)
        )
        await self._body(bodiless)

    async def _head(self, upload: asyncio.Task[None] | None) -> list[tuple[bytes, bytes]]:
        """The answer's head, while the body goes out and the caller may hang up."""
        stream = self._stream
        waiters: set[asyncio.Future[Any]] = {stream.headers}
        watcher = None if upload is not None else asyncio.create_task(self.client.peer_gone())
        try:
            limit = self._left(self.limits.head_seconds)
            started = time.monotonic()
            while True:
                pending = waiters | {task for task in (upload, watcher) if task is not None}
                left = limit - (time.monotonic() - started)
                done, _pending = await asyncio.wait(
                    pending, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    raise _Ended("device_timeout")
                if stream.headers in done or stream.headers.done():
                    break
                if upload in done:
                    try:
                        upload.result()  # raises _Ended or the caller's failure
                    except StreamFailed:
                        raise _Ended("device_unreachable") from None
                    upload = None
                    watcher = asyncio.create_task(self.client.peer_gone())
                elif watcher in done:
                    logger.info("the caller hung up before the answer: stream reset")
                    raise ConnectionAborted()
        finally:
            await _stopped(watcher)
        if upload is not None and not upload.done():
            # The device answered before taking the whole body: the rest is not read.
            upload.cancel()
        try:
            return stream.headers.result()
        except StreamFailed:
            raise _Ended("device_unreachable") from None

    async def _body(self, discard: bool) -> None:
        watcher = asyncio.create_task(self.client.peer_gone())
        try:
            while True:
                chunk = await self._next_chunk(watcher)
                if chunk is None:
                    break
                data, flow_length = chunk
                if data and not discard:
                    await self.client.send(
                        h11.Data(data=data), timeout=self._left(self.limits.total_seconds)
                    )
                # Only now, written and drained: the agent may send this much more.
                self._stream.release(flow_length)
            await self.client.send(h11.EndOfMessage(), timeout=self._left(60))
        finally:
            await _stopped(watcher)

    async def _next_chunk(self, watcher: asyncio.Task[None]) -> tuple[bytes, int] | None:
        reading: asyncio.Future[tuple[bytes, int] | None] = asyncio.ensure_future(
            self._stream.read()
        )
        either: set[asyncio.Future[Any]] = {reading, watcher}
        done, _pending = await asyncio.wait(
            either,
            timeout=self._left(self.limits.idle_seconds),
            return_when=asyncio.FIRST_COMPLETED,
        )
        if reading not in done:
            reading.cancel()
            if watcher in done:
                logger.info("the caller hung up mid-answer: stream reset")
                raise ConnectionAborted()
            logger.info(
                "device silent or exchange too long: answer cut",
                extra={"device_id": self.session.device_id},
            )
            raise _Ended(None)
        try:
            return reading.result()
        except StreamFailed:
            logger.info("tunnel failed mid-answer: cutting the response short")
            raise _Ended(None) from None


async def _stopped(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` and wait until it is: only one reader of the socket at a time."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def relay_answer_status(head: list[tuple[bytes, bytes]]) -> int:
    try:
        return relay_answer.answer_status(dict(head).get(b":status", b""))
    except errors.DeviceBadAnswer:
        raise _Ended("device_bad_answer") from None


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name.lower() == b"content-length":
            return int(value)
    return None
