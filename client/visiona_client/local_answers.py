"""The local device API's side of a relayed exchange: what the agent forwards, and how.

A relayed request goes to ``--local-url`` with ``requests``; its answer comes back
to the tunnel (visiona_client/tunnel_streams.py) as it arrives (``answer_pieces``),
without the headers HTTP/2 cannot carry or that describe this hop only, and a
stream the relay reset stops being read at once (``abandon``).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import requests

READ_BYTES = 1024 * 1024
LOCAL_CONNECT_TIMEOUT_SECONDS = 5.0
LOCAL_READ_TIMEOUT_SECONDS = 300.0
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "host",
    }
)
# RFC 9110 5.1 and 5.5: a token for a name; visible characters, spaces and tabs inside.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE = re.compile(
    r"^([\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$"
)


def answer_headers(status: int, headers: Any) -> list[tuple[str, str]]:
    """The HTTP/2 head of a local answer: its status, and the headers that may go on."""
    head = [(":status", str(status))]
    head += [
        (name.lower(), value)
        for name, value in headers.items()
        # A length we cannot promise: the answer is forwarded as it streams.
        if name.lower() not in HOP_BY_HOP
        and name.lower() != "content-length"
        # What HTTP/2 cannot carry would end the whole tunnel: dropped.
        and _HEADER_NAME.match(name)
        and _HEADER_VALUE.match(value)
    ]
    return head


class SizedBody:
    def __init__(self, chunks: Iterator[bytes], length: int) -> None:
        self._chunks = chunks
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def __len__(self) -> int:
        return self._length


def answer_pieces(raw: Any) -> Iterator[bytes]:
    """The local API's answer as it arrives, never held until a block fills.

    A chunked answer yields each chunk once it is whole; any other answer is read
    with ``read1``, which returns what the socket has (up to READ_BYTES) instead of
    waiting for READ_BYTES: a device that trickles reaches the user as it trickles.
    (urllib3 older than 2 has no read1: its blocks, as before.)
    """
    if raw.chunked or not hasattr(raw, "read1"):
        yield from raw.stream(READ_BYTES, decode_content=False)
        return
    while True:
        data = raw.read1(READ_BYTES, decode_content=False)
        if not data:
            return
        yield data


def abandon(answer: requests.Response) -> None:
    """Stop a worker reading this answer: shut its socket (a read blocked on it returns).

    Through ``fileno()`` (urllib3's and http.client's public one): an answer that
    closes its connection when done no longer has it in the pool's connection.
    """
    try:
        duplicate = socket.socket(fileno=os.dup(answer.raw.fileno()))
    except (OSError, ValueError, AttributeError):
        return  # already closed
    with duplicate, contextlib.suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)
