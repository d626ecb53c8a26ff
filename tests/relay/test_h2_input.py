"""The relay's frame buffer: exactly h2's frames, a DATA payload message uncopied."""

from __future__ import annotations

import random

import h2.exceptions
import hyperframe.frame
import pytest
from h2.frame_buffer import FrameBuffer

from relay.h2_input import DataFrameBuffer

MIB = 1024 * 1024


def _data_frame(stream_id: int, payload: bytes, *, end: bool = False, pad: int = 0) -> bytes:
    frame = hyperframe.frame.DataFrame(stream_id, data=payload)
    if end:
        frame.flags.add("END_STREAM")
    if pad:
        frame.flags.add("PADDED")
        frame.pad_length = pad
    return frame.serialize()


def _headers_frame(stream_id: int, *, end_headers: bool = True) -> bytes:
    frame = hyperframe.frame.HeadersFrame(stream_id, data=b"\x88")
    if end_headers:
        frame.flags.add("END_HEADERS")
    return frame.serialize()


def _frames(buffer, messages, max_frame_size=MIB):
    out = []
    for message in messages:
        buffer.add_data(message)
        buffer.max_frame_size = max_frame_size  # as h2 does, after add_data
        out += [
            (type(f).__name__, f.stream_id, bytes(getattr(f, "data", b"")), sorted(f.flags))
            for f in buffer
        ]
    return out


def _split_like_the_agent(wire_frames: list[bytes]) -> list[bytes]:
    """Each frame's 9-byte header joined to what came before, its payload alone."""
    messages, pending = [], b""
    for frame in wire_frames:
        pending += frame[:9]
        messages.append(pending)
        messages.append(frame[9:])
        pending = b""
    return [m for m in messages if m]


def test_the_agents_split_gives_h2s_frames_and_keeps_the_payload():
    payload = b"p" * MIB
    wire = [_headers_frame(1), _data_frame(1, payload), _data_frame(1, b"q" * 100, end=True)]
    messages = _split_like_the_agent(wire)
    assert _frames(DataFrameBuffer(), messages) == _frames(FrameBuffer(), messages)

    buffer = DataFrameBuffer()
    buffer.max_frame_size = MIB
    buffer.add_data(wire[1][:9])
    assert list(buffer) == []
    message = wire[1][9:]
    buffer.add_data(message)
    (frame,) = list(buffer)
    assert frame.data is message


@pytest.mark.parametrize("seed", range(5))
def test_any_other_cut_gives_h2s_frames(seed):
    rng = random.Random(seed)
    wire = b"".join(
        [
            _headers_frame(1),
            _data_frame(1, bytes(rng.randrange(256) for _ in range(5000))),
            _data_frame(3, b"padded", pad=7),
            _data_frame(1, b"", end=True),
        ]
    )
    cuts = sorted(rng.sample(range(1, len(wire)), 12))
    messages = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    assert _frames(DataFrameBuffer(), messages) == _frames(FrameBuffer(), messages)


def test_a_padded_frame_takes_h2s_path():
    wire = _data_frame(1, b"x" * 1000, pad=10)
    messages = [wire[:9], wire[9:]]
    assert _frames(DataFrameBuffer(), messages) == _frames(FrameBuffer(), messages)


def test_an_overlong_frame_is_refused():
    wire = _data_frame(1, b"x" * 2048)
    buffer = DataFrameBuffer()
    with pytest.raises(h2.exceptions.FrameTooLargeError):
        _frames(buffer, [wire[:9], wire[9:]], max_frame_size=1024)


def test_data_inside_a_header_block_is_a_protocol_error():
    wire = _data_frame(1, b"x" * 100)
    buffer = DataFrameBuffer()
    with pytest.raises(h2.exceptions.ProtocolError):
        _frames(buffer, [_headers_frame(1, end_headers=False) + wire[:9], wire[9:]])
