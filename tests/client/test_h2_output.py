"""The agent's HTTP/2 output in pieces: the same bytes as h2's, a large payload uncopied."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from visiona_client.h2_output import LARGE_PAYLOAD_BYTES, PiecewiseH2Connection

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
