"""Under gunicorn the upload body is received straight from the socket: with gunicorn's
own reader objects over a real socket pair, the bytes are exact, what gunicorn held
after the headers comes first, a pipelined next request stays with gunicorn, and a
client gone mid-body is an interrupted upload."""

from __future__ import annotations

import socket
import threading

import pytest
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

from conversion.upload_reading import UploadInterrupted, request_body_blocks


class FakeRequest:
    def __init__(self, environ: dict) -> None:
        self.META = environ

    def read(self, size: int) -> bytes:  # pragma: no cover - the direct path must not use it
        raise AssertionError("read through gunicorn's buffers")


def gunicorn_request(held: bytes, length: int):
    ours, theirs = socket.socketpair()
    unreader = SocketUnreader(ours)
    unreader.buf.write(held)  # what gunicorn read past the headers
    body = Body(LengthReader(unreader, length))
    return FakeRequest({"wsgi.input": body, "gunicorn.socket": ours}), body, unreader, theirs


def send_later(sock: socket.socket, data: bytes, *, close: bool = False) -> threading.Thread:
    def run():
        sock.sendall(data)
        if close:
            sock.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_the_body_comes_straight_from_the_socket_exactly():
    payload = bytes(range(256)) * 20_000  # ~5 MiB
    request, body, _unreader, client = gunicorn_request(payload[:1000], len(payload))
    sender = send_later(client, payload[1000:])
    blocks = list(request_body_blocks(request, expected_length=len(payload)))
    sender.join()
    assert b"".join(blocks) == payload
    assert blocks[0] == payload[:1000]
    assert body.reader.length == 0  # gunicorn knows the body was read
    assert body.read(100) == b""


def test_a_pipelined_next_request_stays_with_gunicorn():
    request, _body, unreader, _client = gunicorn_request(b"0123456789GET / HTTP/1.1", 10)
    assert b"".join(request_body_blocks(request, expected_length=10)) == b"0123456789"
    assert unreader.read() == b"GET / HTTP/1.1"


def test_a_client_gone_mid_body_interrupts_the_upload():
    request, _body, _unreader, client = gunicorn_request(b"", 1000)
    send_later(client, b"x" * 10, close=True).join()
    with pytest.raises(UploadInterrupted):
        list(request_body_blocks(request, expected_length=1000))


def test_any_other_server_reads_through_the_request():
    class Plain:
        META: dict = {}

        def __init__(self):
            self.chunks = [b"abc", b"def"]

        def read(self, size: int) -> bytes:
            return self.chunks.pop(0) if self.chunks else b""

    assert b"".join(request_body_blocks(Plain(), expected_length=6)) == b"abcdef"
