"""The relay's end of one relayed exchange: one HTTP/2 stream of a tunnel.

The tunnel's session (relay/h2_session.py) feeds it what the agent sends: the answer's
headers, its body chunks, its end or failure. Its consumer (relay/exchange.py) reads
the chunks and releases each once written, which opens the stream's window for the
agent again: a slow reader stops its own stream's sender, and no other.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relay.h2_session import TunnelSession


class StreamFailed(Exception):
    """The stream ended badly: reset by the agent, or the tunnel went away."""


class RelayStream:
    """The relay's end of one exchange: the answer's headers, then its body chunks."""

    def __init__(self, session: TunnelSession, stream_id: int) -> None:
        self.session = session
        self.stream_id = stream_id
        self.headers: asyncio.Future[list[tuple[bytes, bytes]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._chunks: deque[tuple[bytes, int]] = deque()
        self._arrived = asyncio.Event()
        self.ended = False
        self.error: str | None = None

    # Events from the session.
    def deliver(self, data: bytes, flow_length: int) -> None:
        self._chunks.append((data, flow_length))
        self._arrived.set()

    def finish(self) -> None:
        self.ended = True
        self._arrived.set()

    def fail(self, reason: str) -> None:
        if self.ended and not self._chunks:
            return
        self.error = reason
        if not self.headers.done():
            self.headers.set_exception(StreamFailed(reason))
            self.headers.exception()  # retrieved: no "never retrieved" warning
        self._arrived.set()

    # For the consumer.
    async def read(self) -> tuple[bytes, int] | None:
        """The next chunk and its flow-controlled length; None at the end of the answer."""
        while not self._chunks:
            if self.error:
                raise StreamFailed(self.error)
            if self.ended:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        return self._chunks.popleft()

    def release(self, flow_length: int) -> None:
        """The consumer took this many bytes: the agent may send as many more."""
        self.session.open_stream_window(self.stream_id, flow_length)

    def cancel(self) -> None:
        """Nobody wants the rest of this answer (client gone, timeout, error)."""
        self.session.cancel_stream(self.stream_id)
