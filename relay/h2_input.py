"""h2's frame buffer, but a DATA payload that arrives as a message of its own is not copied.

The agent sends a large DATA frame as two WebSocket messages, its 9-byte header
and then its payload (client/visiona_client/h2_output.py). h2's buffer would append
the payload to its bytearray, slice it out again and copy the slice to bytes: three
copies of every byte of a large answer. Here, when the buffer holds just a DATA
frame's header and the next message is exactly that frame's payload, the message
itself becomes the frame's data. Anything else takes h2's own path.

h2's ``FrameBuffer`` is internal (h2 is pinned in requirements.txt);
tests/relay/test_h2_input.py checks the frames are exactly what h2 parses.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import hyperframe.frame
from h2.frame_buffer import FrameBuffer

if TYPE_CHECKING:
    from typing_extensions import Buffer


class DataFrameBuffer(FrameBuffer):
    def __init__(self, server: bool = False) -> None:
        super().__init__(server=server)
        self._ready: deque[hyperframe.frame.Frame] = deque()

    def add_data(self, data: Buffer) -> None:
        frame = self._whole_data_frame(data)
        if frame is None:
            super().add_data(data)
            return
        del self._data[:]
        self._ready.append(frame)

    def _whole_data_frame(self, data: Buffer) -> hyperframe.frame.DataFrame | None:
        if self._preamble_len or len(self._data) != 9 or not isinstance(data, bytes):
            return None
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(self._data))
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
        while self._ready:
            ready = self._ready.popleft()
            # Here, not on arrival: h2 sets ``max_frame_size`` after ``add_data``.
            self._validate_frame_length(ready.body_len)
            frame = self._update_header_buffer(ready)
            if frame is not None:
                return frame
        return super().__next__()
