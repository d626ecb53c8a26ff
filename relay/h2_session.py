"""One tunnel: an HTTP/2 client connection carried over the agent's WebSocket.

The WebSocket is a byte pipe: each binary message is the next bytes of one
HTTP/2 connection (the relay is the client, the agent the server). One relayed
HTTP exchange is one HTTP/2 stream.

Flow control, so that a slow reader neither blocks the others nor fills memory:
- a stream's receive window opens only as its consumer (the internal port's
  client) takes the data (``RelayStream.release``): a slow reader stops its own
  stream's sender at STREAM_WINDOW bytes in flight and no more is buffered;
- the connection's receive window is given back as data arrives (it
  is already bounded per stream), so one stalled stream never starves the rest;
- request bodies are sent only as the agent's windows allow.

All h2 state is touched from the event loop only; one writer task sends what
h2 has to send, in order, and waits for the WebSocket to drain (backpressure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import UTC, datetime

import h2.config
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from visiona_client.h2_internals import (
    CONTROL_FRAME_BUDGETS,
    BudgetedH2Connection,
    ControlFrameFlood,
    quiet_frame_logging,
)
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from relay.relay_stream import RelayStream, StreamFailed

logger = logging.getLogger(__name__)

quiet_frame_logging()

STREAM_WINDOW = 4 * 1024 * 1024  # bytes in flight per stream, agent -> relay
CONNECTION_WINDOW = 16 * 1024 * 1024
MAX_FRAME_SIZE = 1024 * 1024
# The most bytes of the HTTP/2 connection one WebSocket message carries.
MESSAGE_BYTES = 2 * 1024 * 1024
# Liveness, checked by the node for all its tunnels at once (``check_liveness``): the
# agent pings the WebSocket every ``RELAY_AGENT_PING_SECONDS`` (the handshake tells it),
# so a tunnel silent for ``silence_seconds`` of that is dead; an HTTP/2 PING every
# PING_INTERVAL_SECONDS, answered by the agent's own loop (not its WebSocket library),
# catches a stuck agent within PING_TIMEOUT_SECONDS more.
# Agents older than the hint ping every 15 s whatever the node says.
LEGACY_AGENT_PING_SECONDS = 15
# Room for a ping that comes late (a busy agent, a slow link) before the tunnel is dead.
SILENCE_MARGIN_SECONDS = 10
PING_INTERVAL_SECONDS = 120.0
PING_TIMEOUT_SECONDS = 30.0
# After this many HTTP/2 events from one tunnel in a row, the loop serves the others.
EVENTS_BEFORE_YIELD = 64


NO_ERROR = h2.errors.ErrorCodes.NO_ERROR
ENHANCE_YOUR_CALM = h2.errors.ErrorCodes.ENHANCE_YOUR_CALM


def silence_seconds(agent_ping_seconds: int) -> float:
    """How long a tunnel may say nothing before the node closes it: one ping interval
    (the slower of the hint and the old agents' 15 s) and the margin."""
    return float(max(agent_ping_seconds, LEGACY_AGENT_PING_SECONDS) + SILENCE_MARGIN_SECONDS)


class TunnelSession:
    """A live tunnel to one device, held in this relay node's memory."""

    def __init__(self, websocket: ServerConnection, *, device_id: str, token_hash: str) -> None:
        self.websocket = websocket
        self.device_id = device_id
        self.token_hash = token_hash
        self.connection_id = websocket.id.hex
        self.connected_at = datetime.now(UTC)
        # Counts the agent's control frames: a flood closes the tunnel (ENHANCE_YOUR_CALM).
        self.conn = BudgetedH2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None),
            budgets=CONTROL_FRAME_BUDGETS,
        )
        self.streams: dict[int, RelayStream] = {}
        self._want_write = asyncio.Event()
        self._changed = asyncio.Event()  # windows opened, streams closed, session closing
        self.closed = asyncio.Event()
        self.close_reason = ""
        # The first PING at a random point of the first interval: a node's tunnels,
        # opened together after a restart, do not ping together ever after.
        self._next_ping = time.monotonic() + random.random() * PING_INTERVAL_SECONDS
        self._ping_sent_at: float | None = None
        # Before this (monotonic), check_liveness has nothing to do unless the agent fell
        # silent: the node skips it (one comparison per tunnel, not a call).
        self.liveness_due = self._next_ping
        self._connection_credit = 0  # received bytes not yet given back to the agent
        self._closer: asyncio.Future[None] | None = None
        # The preamble first, before any stream can be opened (even before ``run``).
        self.conn.initiate_connection()
        self.conn.update_settings(
            {
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_FRAME_SIZE: MAX_FRAME_SIZE,
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
            }
        )
        self.conn.increment_flow_control_window(CONNECTION_WINDOW - 65535)

    # Life cycle -------------------------------------------------------------

    async def run(self) -> None:
        """Serve the tunnel until the WebSocket closes or ``close`` is called."""
        self._flush()
        tasks = [
            asyncio.create_task(self._writer(), name=f"tunnel-writer-{self.connection_id}"),
        ]
        try:
            handled = 0
            async for message in self.websocket:
                if isinstance(message, str):
                    self.close("text message on the byte pipe")
                    break
                events = self._receive(message)
                if events is None:
                    break
                handled += events
                if handled >= EVENTS_BEFORE_YIELD:
                    # Messages already buffered are read without a pause: let the
                    # loop serve other tunnels and exchanges between batches.
                    handled = 0
                    await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        finally:
            self._fail_all(self.close_reason or "the tunnel closed")
            self.closed.set()
            for task in tasks:
                task.cancel()
            # What close() queued (GOAWAY with its reason) goes out before the close.
            with contextlib.suppress(Exception):
                if pending := self.conn.data_to_send():
                    await asyncio.wait_for(self.websocket.send(pending), 1.0)
            with contextlib.suppress(Exception):
                await self.websocket.close()

    def close(self, reason: str, error_code: h2.errors.ErrorCodes = NO_ERROR) -> None:
        """Say GOAWAY and close the WebSocket; exchanges in flight fail."""
        if self.closed.is_set() or self.close_reason:
            return
        self.close_reason = reason
        logger.info(
            "closing tunnel",
            extra={"device_id": self.device_id, "connection_id": self.connection_id, "why": reason},
        )
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.conn.close_connection(error_code=error_code)
        self._flush()
        self._fail_all(reason)
        asyncio.get_running_loop().call_later(1.0, self._close_websocket)

    def _close_websocket(self) -> None:
        self._closer = asyncio.ensure_future(
            self.websocket.close(code=1000, reason=self.close_reason[:100])
        )

    def _fail_all(self, reason: str) -> None:
        for stream in list(self.streams.values()):
            stream.fail(reason)
        self.streams.clear()
        self._signal_change()

    # Exchanges --------------------------------------------------------------

    async def open_stream(
        self, headers: list[tuple[bytes, bytes]], *, end_stream: bool
    ) -> RelayStream:
        """Start one exchange; waits while the agent's stream limit is reached."""
        while True:
            if self.close_reason or self.closed.is_set():
                raise StreamFailed(self.close_reason or "the tunnel closed")
            limit = self.conn.remote_settings.max_concurrent_streams
            if self.conn.open_outbound_streams < limit:
                break
            await self._wait_for_change()
        stream_id = self.conn.get_next_available_stream_id()
        stream = RelayStream(self, stream_id)
        self.streams[stream_id] = stream
        self.conn.send_headers(stream_id, headers, end_stream=end_stream)
        self._flush()
        return stream

    async def send_body(self, stream: RelayStream, data: bytes) -> None:
        """Send request body bytes as fast as the agent's windows allow."""
        view = memoryview(data)
        while view:
            if stream.error:
                raise StreamFailed(stream.error)
            try:
                window = self.conn.local_flow_control_window(stream.stream_id)
            except h2.exceptions.StreamClosedError:
                raise StreamFailed("the agent closed the stream") from None
            size = min(window, self.conn.max_outbound_frame_size, len(view))
            if size <= 0:
                await self._wait_for_change()
                continue
            self.conn.send_data(stream.stream_id, view[:size].tobytes())
            view = view[size:]
            self._flush()

    def end_body(self, stream: RelayStream) -> None:
        if stream.error:
            raise StreamFailed(stream.error)
        try:
            self.conn.end_stream(stream.stream_id)
        except h2.exceptions.StreamClosedError:
            raise StreamFailed("the agent closed the stream") from None
        self._flush()

    def cancel_stream(self, stream_id: int) -> None:
        """Nobody wants the rest of this stream's answer: forget it, RST_STREAM CANCEL."""
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream.fail("cancelled")
        with contextlib.suppress(h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError):
            self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            self._flush()
        self._signal_change()

    def open_stream_window(self, stream_id: int, length: int) -> None:
        """The consumer took ``length`` bytes of the stream: the agent may send as many more."""
        if length <= 0 or stream_id not in self.streams:
            return
        with contextlib.suppress(h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError):
            self.conn.increment_flow_control_window(length, stream_id=stream_id)
            self._flush()

    # Incoming bytes -----------------------------------------------------------

    def _receive(self, data: bytes) -> int | None:
        """Feed one message to h2; how many events it made, None once closing."""
        try:
            events = self.conn.receive_data(data)
        except ControlFrameFlood as flood:
            logger.warning(
                "tunnel closed: control frame flood",
                extra={"device_id": self.device_id, "kind": flood.kind},
            )
            self.close(f"control frame flood ({flood.kind})", ENHANCE_YOUR_CALM)
            return None
        except h2.exceptions.ProtocolError as exc:
            self.close(f"HTTP/2 protocol error from the agent: {exc.__class__.__name__}")
            return None
        for event in events:
            self._handle(event)
        if self.conn.has_data_to_send():  # wake the writer only for output
            self._flush()
        return None if self.close_reason else len(events)

    def _handle(self, event: h2.events.Event) -> None:
        stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.ResponseReceived):
            if stream and not stream.headers.done():
                stream.headers.set_result(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                # The connection window comes back on arrival; the stream's when read.
                self._return_connection_window(event.flow_controlled_length)
            if stream:
                stream.deliver(event.data, event.flow_controlled_length)
            elif event.data:
                with contextlib.suppress(h2.exceptions.ProtocolError):
                    self.conn.reset_stream(event.stream_id, h2.errors.ErrorCodes.CANCEL)
        elif isinstance(event, h2.events.StreamEnded):
            if stream:
                stream.finish()
                self.streams.pop(event.stream_id, None)
                self._signal_change()
        elif isinstance(event, h2.events.StreamReset):
            if stream:
                stream.fail("the agent reset the stream")
                self.streams.pop(event.stream_id, None)
            self._signal_change()
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            self._signal_change()
        elif isinstance(event, h2.events.PingAckReceived):
            self._ping_sent_at = None
            self._next_ping = self.liveness_due = time.monotonic() + PING_INTERVAL_SECONDS
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.close("the agent said GOAWAY")

    def _return_connection_window(self, length: int) -> None:
        # In steps of a quarter of the window, not one WINDOW_UPDATE per DATA frame:
        # the agent always has three quarters of it to send with.
        self._connection_credit += length
        if self._connection_credit >= CONNECTION_WINDOW // 4:
            self.conn.increment_flow_control_window(self._connection_credit)
            self._connection_credit = 0

    # Writing --------------------------------------------------------------------

    def _flush(self) -> None:
        self._want_write.set()

    def _signal_change(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for_change(self) -> None:
        await self._changed.wait()

    async def _writer(self) -> None:
        try:
            while True:
                await self._want_write.wait()
                self._want_write.clear()
                # All of it at once (``data_to_send(amount)`` copies the buffer twice),
                # sent in messages of at most MESSAGE_BYTES.
                while data := self.conn.data_to_send():
                    view = memoryview(data)
                    for start in range(0, len(view), MESSAGE_BYTES):
                        await self.websocket.send(view[start : start + MESSAGE_BYTES])
        except ConnectionClosed:
            self._fail_all("the tunnel closed")

    def check_liveness(self, now: float, silence: float) -> None:
        """Close a tunnel dead (silent for more than ``silence`` seconds) or stuck; send
        the HTTP/2 PING when it is due. The node calls this for every tunnel every few
        seconds (no task per tunnel)."""
        if self.close_reason or self.closed.is_set():
            return
        heard = getattr(self.websocket, "last_heard", None)
        if heard is not None and now - heard > silence:
            self.close("no sign of life from the agent")
        elif self._ping_sent_at is not None:
            if now - self._ping_sent_at > PING_TIMEOUT_SECONDS:
                self.close("no HTTP/2 PING answer")
        elif now >= self._next_ping:
            self.conn.ping(b"visiona!")
            self._ping_sent_at = now
            self.liveness_due = now + PING_TIMEOUT_SECONDS
            self._flush()
