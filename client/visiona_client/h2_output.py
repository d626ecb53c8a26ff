"""h2's connection with its output kept in pieces: a DATA frame's payload is never copied.

For every frame it sends, h2 serializes the frame (a DATA payload is copied twice:
joined to its padding, then to its 9-byte header), appends it to one bytearray (a
third copy) and hands that out as bytes (a fourth). A 100 MiB answer through the
tunnel was copied four times over before the WebSocket layer saw it. Here a large
DATA frame leaves as two pieces, its header and its payload object as the local API
gave it; the WebSocket carries each piece as a message of its own (the WebSocket is
a byte pipe: message boundaries mean nothing to HTTP/2).

This overrides h2's private ``_prepare_for_sending`` (h2 is pinned in
requirements.txt; tests/client/test_h2_output.py checks the bytes are exactly h2's).
"""

from __future__ import annotations

import struct

import h2.connection
import hyperframe.frame

# A payload at least this large goes out uncopied; smaller frames are joined.
LARGE_PAYLOAD_BYTES = 64 * 1024
_FRAME_HEADER = struct.Struct(">HBBBL")  # hyperframe's own layout of the 9-byte header
_DATA_TYPE = 0x0
_END_STREAM = 0x1


class PiecewiseH2Connection(h2.connection.H2Connection):
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
