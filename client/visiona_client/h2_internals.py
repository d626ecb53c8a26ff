"""Every place the tunnel reaches into h2's and hyperframe's private parts: this module.

The relay (relay/h2_session.py) and the agent (visiona_client/tunnel_streams.py) are both
pure-Python HTTP/2 over a WebSocket; on a large answer what costs is how often each
byte is copied. Three overrides of h2's internals remove the copies, and a fourth
limits a flood of control frames. They live here, in the client distribution (the
relay depends on it), so there is one copy of each, tested byte for byte against
h2's own output and parse (tests/client/test_h2_internals.py) on the pinned h2 and
on the lowest h2 that client/pyproject.toml allows (tests/client/test_h2_versions.py).

- ``quiet_frame_logging``: hyperframe's repr of a DATA frame hex-encodes its whole
  payload, and h2 formats every frame it receives for a trace line, logged or not.
- ``PiecewiseH2Connection`` (the agent's output): a large DATA frame leaves as two
  pieces, its header and its payload object as the local API gave it.
- ``DataFrameBuffer`` (the relay's input): a DATA payload that arrives as a message
  of its own becomes the frame's data without h2 appending, slicing and copying it;
  it also counts control frames per type and raises ``ControlFrameFlood`` past a
  budget (the relay then closes the tunnel with GOAWAY ENHANCE_YOUR_CALM).
- ``BudgetedH2Connection`` (the relay's connection): h2's connection reading through
  that buffer (h2's ``incoming_buffer``), and ``has_data_to_send`` (a look at h2's
  private output buffer, which h2 offers no public way to look at without emptying it).
"""

from __future__ import annotations

import struct
import time
from collections import deque
from typing import TYPE_CHECKING

import h2.config
import h2.connection
import hyperframe.frame
from h2.frame_buffer import FrameBuffer

if TYPE_CHECKING:
    from typing_extensions import Buffer


def _data_frame_repr(self: hyperframe.frame.DataFrame) -> str:
    return f"<{len(self.data)} bytes: {self.data[:10].hex()}...>"


def quiet_frame_logging() -> None:
    """A DATA frame's repr from its first bytes (h2 builds one per frame it receives:
    a third of the relay's CPU on a large answer)."""
    hyperframe.frame.DataFrame._body_repr = _data_frame_repr  # type: ignore[method-assign,assignment]


# A payload at least this large goes out uncopied; smaller frames are joined.
LARGE_PAYLOAD_BYTES = 64 * 1024
_FRAME_HEADER = struct.Struct(">HBBBL")  # hyperframe's own layout of the 9-byte header
_DATA_TYPE = 0x0
_END_STREAM = 0x1


class PiecewiseH2Connection(h2.connection.H2Connection):
    """h2's connection with its output kept in pieces: a DATA payload is never copied.

    For every frame it sends, h2 serializes the frame (a DATA payload is copied
    twice: joined to its padding, then to its 9-byte header), appends it to one
    bytearray (a third copy) and hands that out as bytes (a fourth). Overrides h2's
    private ``_prepare_for_sending``.
    """

    def __init__(self, config: h2.config.H2Configuration | None = None) -> None:
        super().__init__(config=config)
        self._pieces: list[bytes] = []

    def _prepare_for_sending(self, frames: list[hyperframe.frame.Frame]) -> None:
        if not frames:
            return
        self._take_buffered()
        for frame in frames:
            payload = _large_plain_payload(frame)
            if payload is None:
                self._pieces.append(frame.serialize())
                continue
            length = len(payload)
            frame.body_len = length  # h2 checks it against the peer's frame size
            flags = _END_STREAM if "END_STREAM" in frame.flags else 0
            header = _FRAME_HEADER.pack(
                (length >> 8) & 0xFFFF, length & 0xFF, _DATA_TYPE, flags, frame.stream_id
            )
            self._pieces += (header, payload)
        assert all(frame.body_len <= self.max_outbound_frame_size for frame in frames)

    def pieces_to_send(self) -> list[bytes]:
        """What is to be sent, in order: large payloads as they are, runs of the rest joined."""
        self._take_buffered()
        pieces, self._pieces = self._pieces, []
        out: list[bytes] = []
        small: list[bytes] = []
        for piece in pieces:
            if len(piece) >= LARGE_PAYLOAD_BYTES:
                if small:
                    out.append(b"".join(small))
                    small = []
                out.append(piece)
            else:
                small.append(piece)
        if small:
            out.append(b"".join(small))
        return out

    def data_to_send(self, amount: int | None = None) -> bytes:
        # h2's public contract, for any caller that wants one byte string.
        self._take_buffered()
        if amount is not None:
            data = b"".join(self._pieces)
            self._pieces = [data[amount:]] if len(data) > amount else []
            return data[:amount]
        return b"".join(self.pieces_to_send())

    def clear_outbound_data_buffer(self) -> None:
        super().clear_outbound_data_buffer()
        self._pieces = []

    def _take_buffered(self) -> None:
        # h2 writes its preamble (``initiate_connection``) straight into its bytearray.
        if self._data_to_send:
            self._pieces.append(bytes(self._data_to_send))
            self._data_to_send = bytearray()


def _large_plain_payload(frame: hyperframe.frame.Frame) -> bytes | None:
    if not isinstance(frame, hyperframe.frame.DataFrame) or "PADDED" in frame.flags:
        return None
    data = frame.data
    if len(data) < LARGE_PAYLOAD_BYTES:
        return None
    return data.tobytes() if isinstance(data, memoryview) else data


class ControlFrameFlood(Exception):
    """The peer sent more control frames of one kind than its budget allows."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"too many {kind} frames")
        self.kind = kind


# Control frames a tunnel may receive per CONTROL_WINDOW_SECONDS, by kind. Generous
# for any real agent (a window update per request-body frame, a reset per cancelled
# stream, a PING answer every 2 minutes), tiny next to a flood at wire speed.
CONTROL_WINDOW_SECONDS = 10.0
CONTROL_FRAME_BUDGETS: dict[str, int] = {
    "SettingsFrame": 100,
    "PingFrame": 100,
    "PriorityFrame": 100,
    "GoAwayFrame": 10,
    "RstStreamFrame": 2000,
    "WindowUpdateFrame": 20000,
    "ContinuationFrame": 1000,
    "ExtensionFrame": 100,
    "empty DATA": 200,
}


class DataFrameBuffer(FrameBuffer):
    """h2's frame buffer, but a DATA payload that arrives as a message of its own is
    not copied; and a budget of control frames (``budgets``: None counts nothing)."""

    def __init__(self, server: bool = False, budgets: dict[str, int] | None = None) -> None:
        super().__init__(server=server)
        self._ready: deque[hyperframe.frame.DataFrame] = deque()
        self._budgets = budgets
        self._counts: dict[str, int] = {}
        self._window_ends = 0.0

    def add_data(self, data: Buffer) -> None:
        frame = self._whole_data_frame(data)
        if frame is None:
            super().add_data(data)
            return
        self._clear_buffered()
        self._ready.append(frame)

    # h2 4.2 and later buffer in ``_data`` (a bytearray), 4.1 in ``data`` (bytes).
    def _buffered(self) -> bytes | bytearray:
        buffered: object = getattr(self, "_data", None)
        if buffered is None:
            buffered = getattr(self, "data", b"")
        return buffered if isinstance(buffered, (bytes, bytearray)) else b""

    def _clear_buffered(self) -> None:
        if isinstance(getattr(self, "_data", None), bytearray):
            del self._data[:]
        else:
            setattr(self, "data", b"")  # noqa: B010 (h2 4.1's name, unknown to its 4.4 types)

    def _whole_data_frame(self, data: Buffer) -> hyperframe.frame.DataFrame | None:
        buffered = self._buffered()
        if self._preamble_len or len(buffered) != 9 or not isinstance(data, bytes):
            return None
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(buffered))
        if (
            not isinstance(frame, hyperframe.frame.DataFrame)
            or "PADDED" in frame.flags
            or length != len(data)
            or frame.stream_id == 0  # h2's parse_body raises on it; let it
        ):
            return None
        frame.data = data
        frame.body_len = length
        return frame

    def __next__(self) -> hyperframe.frame.Frame:
        frame = self._next_frame()
        if self._budgets is not None:
            self._count(frame)
        return frame

    def _next_frame(self) -> hyperframe.frame.Frame:
        while self._ready:
            ready = self._ready.popleft()
            # Here, not on arrival: h2 sets ``max_frame_size`` after ``add_data``.
            self._validate_frame_length(ready.body_len)
            frame = self._update_header_buffer(ready)
            if frame is not None:
                return frame
        return super().__next__()

    def _count(self, frame: hyperframe.frame.Frame) -> None:
        kind = type(frame).__name__
        if isinstance(frame, hyperframe.frame.DataFrame):
            if frame.data or "END_STREAM" in frame.flags:
                return
            kind = "empty DATA"
        budget = self._budgets.get(kind) if self._budgets is not None else None
        if budget is None:
            return
        now = time.monotonic()
        if now >= self._window_ends:
            self._counts = {}
            self._window_ends = now + CONTROL_WINDOW_SECONDS
        self._counts[kind] = self._counts.get(kind, 0) + 1
        if self._counts[kind] > budget:
            raise ControlFrameFlood(kind)


class BudgetedH2Connection(h2.connection.H2Connection):
    """h2's connection reading through a ``DataFrameBuffer`` with ``budgets`` of control
    frames (``receive_data`` then raises ``ControlFrameFlood``); the relay's end."""

    def __init__(
        self, config: h2.config.H2Configuration | None = None, *, budgets: dict[str, int]
    ) -> None:
        super().__init__(config=config)
        # h2 reads every byte through this attribute; it documents no other way in.
        self.incoming_buffer = DataFrameBuffer(server=not self.config.client_side, budgets=budgets)

    def has_data_to_send(self) -> bool:
        """Whether h2 has bytes to send, without taking them: what ``receive_data`` did
        may have been to queue an answer (a PING's, a SETTINGS ack) or nothing at all."""
        return bool(self._data_to_send)
