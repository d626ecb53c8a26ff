"""Reading the upload: the raw request body in large blocks, and the multipart
boundary and part headers checked strictly before anything is trusted.

Part of the upload proxy (``conversion.upload_stream``): this module reads and
parses, ``upload_policy`` decides what the converter gets, ``upload_framing``
writes it out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from multipart import MultipartSegment

from visiona.errors import AppError, MalformedRequest, UnsupportedMediaType

# gunicorn copies its buffer on every read: large reads are much faster.
READ_CHUNK_SIZE = 1024 * 1024
MAX_HEADER_SIZE = 8 * 1024
MAX_HEADER_COUNT = 8  # browsers send two; RFC 7578 knows three

# RFC 2046 §5.1.1: 1 to 70 characters, the last one not a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# RFC 7230 token and quoted-string, to read Content-Disposition parameters strictly.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_DISPOSITION_TYPE = re.compile(rf"\s*{_TOKEN}\s*")
_DISPOSITION_PARAM = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
# Dropped from file names rather than escaped: parsers disagree on backslash
# escapes inside quoted strings, and a control character has no place in a header.
_FILENAME_UNSAFE = re.compile(r'["\x00-\x1f\x7f-\x9f]')


class UploadInterrupted(AppError):
    status = 400
    code = "upload_interrupted"
    message = _("The upload was interrupted before it finished.")


class ReadableStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def boundary_from_content_type(content_type: str) -> str:
    media_type, params = parse_header_parameters(content_type or "")
    if media_type != "multipart/form-data":
        raise UnsupportedMediaType()
    boundary = params.get("boundary", "")
    if not _BOUNDARY.fullmatch(boundary):
        raise MalformedRequest()
    return boundary


def iter_stream(
    stream: ReadableStream, *, expected_length: int, chunk_size: int = READ_CHUNK_SIZE
) -> Iterator[bytes]:
    """The request body in large blocks, exactly ``expected_length`` bytes of it.

    A body shorter than announced means the client went away: the form must then
    fail, not reach the converter as if complete. Django's LimitedStream signals
    that with an empty read, the server's socket with an OSError (Django's
    ``UnreadablePostError`` is one); either becomes ``UploadInterrupted``, which,
    unlike an OSError, an HTTP client will not mistake for its own connection error.
    """
    remaining = expected_length
    while remaining > 0:
        try:
            chunk = stream.read(min(chunk_size, remaining))
        except OSError as exc:
            raise UploadInterrupted() from exc
        if not chunk:
            raise UploadInterrupted()
        remaining -= len(chunk)
        yield chunk


def check_headers(segment: MultipartSegment) -> None:
    """Refuse the headers parsers read differently: a repeated header or parameter,
    or an RFC 2231 ``name*``/``filename*`` that some parsers prefer and others ignore."""
    names = [header for header, _value in segment.headerlist]
    if names.count("Content-Disposition") != 1 or names.count("Content-Type") > 1:
        raise MalformedRequest()
    params = _disposition_params(segment["Content-Disposition"])
    if len(params) != len(set(params)) or any(param.endswith("*") for param in params):
        raise MalformedRequest()


def _disposition_params(value: str) -> list[str]:
    """The parameter names of a Content-Disposition value, which must parse whole."""
    match = _DISPOSITION_TYPE.match(value)
    if match is None:
        raise MalformedRequest()
    position = match.end()
    params = []
    while position < len(value):
        match = _DISPOSITION_PARAM.match(value, position)
        if match is None:
            raise MalformedRequest()
        params.append(match.group(1).lower())
        position = match.end()
    return params


def safe_filename(filename: str) -> str | None:
    """The last path segment, without quotes or control characters; None if
    nothing is left (the part is then refused with "The file needs a valid name").

    Browsers send only the name, but other clients send paths (both separators),
    so no backslash survives either: the name needs no escaping at all.
    """
    name = _FILENAME_UNSAFE.sub("", re.split(r"[/\\]", filename)[-1]).strip()
    return None if name in {"", ".", ".."} else name


def request_body_blocks(request: ReadableStream, *, expected_length: int) -> Iterator[bytes]:
    """The body of ``request`` (a Django request) in large blocks, exactly
    ``expected_length`` bytes, read straight from the socket under gunicorn.

    gunicorn's body reader copies every block five or six times through its
    buffers (a third of the proxy's CPU time per GiB); its socket is in the WSGI
    environment, so once what it already holds (read with the headers) is taken,
    the rest is received directly, with gunicorn's own count kept true so the
    connection stays usable. Any other server, or a body someone started reading,
    goes through ``request.read`` (``iter_stream``).
    """
    direct = _gunicorn_socket(getattr(request, "META", None) or {}, expected_length)
    if direct is None:
        return iter_stream(request, expected_length=expected_length)
    return _read_socket(*direct, length=expected_length)


class _Receiver(Protocol):
    """gunicorn's client socket (a plain, TLS or gevent socket: only recv is used)."""

    def recv(self, size: int, /) -> bytes: ...


# gunicorn's reader and unreader are untyped internals, recognised by their class names.
_GunicornSocket = tuple[Any, Any, _Receiver]


def _gunicorn_socket(environ: Mapping[str, Any], expected_length: int) -> _GunicornSocket | None:
    body: Any = environ.get("wsgi.input")
    sock: _Receiver | None = environ.get("gunicorn.socket")
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    if (
        sock is None
        or type(reader).__name__ != "LengthReader"
        or type(unreader).__name__ != "SocketUnreader"
        or getattr(reader, "length", None) != expected_length
        or not isinstance(getattr(body, "buf", None), io.BytesIO)
        or not isinstance(getattr(unreader, "buf", None), io.BytesIO)
        or body.buf.getbuffer().nbytes  # someone has read part of the body already
    ):
        return None
    return reader, unreader, sock


def _read_socket(reader: Any, unreader: Any, sock: _Receiver, *, length: int) -> Iterator[bytes]:
    held = unreader.buf.getvalue()
    unreader.buf = io.BytesIO()
    if len(held) > length:  # a pipelined next request: gunicorn keeps it
        unreader.buf.write(held[length:])
        held = held[:length]
    remaining = length - len(held)
    reader.length = remaining
    if held:
        yield held
    while remaining > 0:
        try:
            chunk = sock.recv(min(READ_CHUNK_SIZE, remaining))
        except OSError as exc:
            raise UploadInterrupted() from exc
        if not chunk:
            raise UploadInterrupted()
        remaining -= len(chunk)
        reader.length = remaining
        yield chunk
