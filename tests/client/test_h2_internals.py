"""The one module of h2 internals (visiona_client.h2_internals), against h2 itself.

The agent's output in pieces: the same bytes as h2's, a large payload uncopied. The
relay's input buffer: exactly h2's frames, a DATA payload message uncopied, and a
budget of control frames; the relay's connection, which h2 reads through that buffer
and whose output it looks at without taking it. Run on the pinned h2 here, and on the
lowest h2 the client allows by tests/client/test_h2_versions.py.
"""

from __future__ import annotations

import random

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame
import pytest
from h2.frame_buffer import FrameBuffer
from visiona_client.h2_internals import (
    LARGE_PAYLOAD_BYTES,
    BudgetedH2Connection,
    ControlFrameFlood,
    DataFrameBuffer,
    PiecewiseH2Connection,
)

REQUEST = [(":method", "GET"), (":path", "/blob"), (":scheme", "http"), (":authority", "d")]
MIB = 1024 * 1024


def _pair(server_class):
    """A relay-side client and an agent-side server of ``server_class``, handshaken."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = server_class(h2.config.H2Configuration(client_side=False))
    client.initiate_connection()
    client.update_settings(
        {
            h2.settings.SettingCodes.MAX_FRAME_SIZE: MIB,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 4 * MIB,
        }
    )
    client.increment_flow_control_window(8 * MIB)
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    client.send_headers(1, REQUEST, end_stream=True)
    client.send_headers(3, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    return client, server


def _answer(server, payload: bytes) -> None:
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, payload[:100])  # a small frame
    server.send_data(1, payload)  # a large one, as the local API gave it
    server.send_headers(3, [(":status", "204")], end_stream=True)
    server.end_stream(1)


def _wire(server) -> bytes:
    if isinstance(server, PiecewiseH2Connection):
        return b"".join(server.pieces_to_send())
    return server.data_to_send()


@pytest.mark.parametrize("size", [LARGE_PAYLOAD_BYTES - 1, LARGE_PAYLOAD_BYTES, MIB])
def test_it_sends_exactly_the_bytes_h2_sends(size):
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    wires = []
    for server_class in (h2.connection.H2Connection, PiecewiseH2Connection):
        _, server = _pair(server_class)
        _answer(server, payload)
        wires.append(_wire(server))
    assert wires[0] == wires[1]


def test_a_large_payload_leaves_as_the_same_object():
    _, server = _pair(PiecewiseH2Connection)
    payload = b"y" * MIB
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, payload, end_stream=True)
    pieces = server.pieces_to_send()
    assert any(piece is payload for piece in pieces)
    # The headers, the DATA frame's header: joined into one small piece before it.
    assert [len(piece) for piece in pieces][-1] == MIB
    assert len(pieces) == 2


def test_the_peer_reads_every_byte_and_the_end_of_the_stream():
    client, server = _pair(PiecewiseH2Connection)
    payload = b"z" * (2 * MIB)
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, payload[:MIB])
    server.send_data(1, payload[MIB:], end_stream=True)
    received, ended = bytearray(), False
    for piece in server.pieces_to_send():
        for event in client.receive_data(piece):
            if isinstance(event, h2.events.DataReceived):
                received += event.data
            ended = ended or isinstance(event, h2.events.StreamEnded)
    assert bytes(received) == payload
    assert ended


def test_data_to_send_keeps_h2s_contract():
    _, server = _pair(PiecewiseH2Connection)
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, b"a" * LARGE_PAYLOAD_BYTES)
    whole = b"".join(PiecewiseH2Connection.pieces_to_send(_copy_of(server)))
    first = server.data_to_send(10)
    assert first == whole[:10]
    assert server.data_to_send() == whole[10:]
    assert server.data_to_send() == b""


def _copy_of(server):
    import copy

    return copy.deepcopy(server)


# The relay's input -------------------------------------------------------------


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


def test_control_frames_past_their_budget_are_a_flood():
    ping = hyperframe.frame.PingFrame(0, opaque_data=b"12345678").serialize()
    buffer = DataFrameBuffer(budgets={"PingFrame": 3})
    buffer.max_frame_size = MIB
    buffer.add_data(ping * 3)
    assert [type(f).__name__ for f in buffer] == ["PingFrame"] * 3
    buffer.add_data(ping)
    with pytest.raises(ControlFrameFlood) as flood:
        list(buffer)
    assert flood.value.kind == "PingFrame"


def test_empty_data_frames_count_and_data_does_not():
    empty = _data_frame(1, b"")
    buffer = DataFrameBuffer(budgets={"empty DATA": 2})
    buffer.max_frame_size = MIB
    buffer.add_data(_data_frame(1, b"x" * 100) * 10 + _data_frame(1, b"", end=True) * 5)
    assert len(list(buffer)) == 15
    buffer.add_data(empty * 3)
    with pytest.raises(ControlFrameFlood):
        list(buffer)


def test_without_budgets_nothing_is_counted():
    ping = hyperframe.frame.PingFrame(0, opaque_data=b"12345678").serialize()
    buffer = DataFrameBuffer()
    buffer.max_frame_size = MIB
    buffer.add_data(ping * 5000)
    assert len(list(buffer)) == 5000


# The relay's connection ----------------------------------------------------------


def _budgeted_pair(budgets):
    """The relay's connection (``budgets`` of control frames) and an agent, handshaken."""
    relay = BudgetedH2Connection(h2.config.H2Configuration(client_side=True), budgets=budgets)
    agent = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    relay.initiate_connection()
    agent.initiate_connection()
    agent.receive_data(relay.data_to_send())
    relay.receive_data(agent.data_to_send())
    agent.receive_data(relay.data_to_send())
    return relay, agent


def test_h2_reads_the_relays_input_through_the_budget():
    # The budget is only as good as h2 reading through it: a flood raises from
    # ``receive_data`` itself, on every h2 this runs on.
    relay, agent = _budgeted_pair({"PingFrame": 3})
    for _ in range(3):
        agent.ping(b"12345678")
    events = relay.receive_data(agent.data_to_send())
    assert [type(event).__name__ for event in events] == ["PingReceived"] * 3
    agent.ping(b"12345678")
    with pytest.raises(ControlFrameFlood):
        relay.receive_data(agent.data_to_send())


def test_the_relays_input_is_h2s_own():
    relay, agent = _budgeted_pair({})
    relay.send_headers(1, REQUEST, end_stream=True)
    agent.receive_data(relay.data_to_send())
    agent.send_headers(1, [(":status", "200")])
    agent.send_data(1, b"d" * 1000, end_stream=True)
    events = relay.receive_data(agent.data_to_send())
    kinds = [type(event).__name__ for event in events]
    assert kinds == ["ResponseReceived", "DataReceived", "StreamEnded"]
    assert events[1].data == b"d" * 1000


def test_has_data_to_send_says_what_data_to_send_would_give():
    relay, agent = _budgeted_pair({})
    assert not relay.has_data_to_send()
    assert relay.data_to_send() == b""
    agent.ping(b"12345678")  # the relay owes an answer: its PING ACK
    relay.receive_data(agent.data_to_send())
    assert relay.has_data_to_send()
    assert relay.has_data_to_send()  # looking takes nothing
    assert relay.data_to_send()
    assert not relay.has_data_to_send()
    relay.send_headers(1, REQUEST, end_stream=True)
    assert relay.has_data_to_send()
