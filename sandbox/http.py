"""HTTP helpers shared by the stand-ins: JSON answers, the converter's error
envelope, bearer tokens and a request body reader that understands chunked uploads.

The envelope imitates the upstreams; it is deliberately not visionA's own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, JsonResponse

from sandbox import tokens

CHUNK_SIZE = 1024 * 1024


class BodyStream(Protocol):
    """What the stand-ins read a request body through: the request itself, or a reader."""

    def read(self, size: int = -1, /) -> bytes: ...


def json_answer(data: Any, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: dict | None = None,
    **headers: str,
) -> JsonResponse:
    request_id = getattr(request, "request_id", None) or f"req_{uuid.uuid4().hex}"
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id,
        }
    }
    return json_answer(body, status, **headers)


def validation_error(request: HttpRequest, fields: list[dict[str, str]]) -> JsonResponse:
    return error(request, 400, "validation_error", "The request is invalid.", {"fields": fields})


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def read_json(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def check_service_token(request: HttpRequest, scope: str) -> JsonResponse | None:
    """None when the request carries a valid service token with ``scope``, else the answer."""
    try:
        claims = tokens.read(bearer_token(request), kind=tokens.SERVICE)
    except tokens.TokenError as exc:
        return error(
            request,
            401,
            exc.code,
            exc.message,
            WWW_Authenticate=f'Bearer error="invalid_token", error_description="{exc.message}"',
        )
    if scope not in claims["scopes"]:
        return error(
            request,
            403,
            "insufficient_scope",
            f"The token lacks the scope {scope}.",
            {"required_scope": scope},
            WWW_Authenticate=f'Bearer error="insufficient_scope", scope="{scope}"',
        )
    return None


def request_body(request: HttpRequest) -> BodyStream:
    """The decoded request body as a stream, also when it arrives chunked.

    Django reads only ``Content-Length`` bytes, which is none for a chunked
    upload (visionA streams its uploads chunked). gunicorn removes the chunking
    itself; Django's runserver does not, and hides the socket behind a
    zero-length stream, so the sandbox reads and de-chunks the socket there.
    """
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return request
    raw: BodyStream = request.META["wsgi.input"]  # the WSGI environ is META
    if isinstance(raw, LimitedStream):
        # runserver and the test live server: the socket's read functions,
        # positioned at the start of the chunked body. Django's private attributes,
        # which its stubs leave out.
        return ChunkedReader(raw._read, raw._readline)  # type: ignore[attr-defined]
    return raw


def drain(body: BodyStream) -> None:
    """Reads what the client still sends, so it receives the answer instead of a reset."""
    while body.read(CHUNK_SIZE):
        pass


class ChunkedReader:
    """Decodes an HTTP/1.1 chunked body (RFC 9112 §7.1) from a raw stream."""

    def __init__(self, read: Callable[[int], bytes], readline: Callable[[int], bytes]) -> None:
        self._read = read
        self._readline = readline
        self._left = 0  # bytes left in the current chunk
        self._done = False

    def read(self, size: int = -1) -> bytes:
        parts = []
        while not self._done and (size < 0 or size > 0):
            if self._left == 0:
                self._start_chunk()
                continue
            want = self._left if size < 0 else min(size, self._left)
            data = self._read(want)
            if not data:
                raise ValueError("chunked body ended early")
            parts.append(data)
            self._left -= len(data)
            if size > 0:
                size -= len(data)
            if self._left == 0:
                self._readline(8)  # the CRLF after each chunk
        return b"".join(parts)

    def _start_chunk(self) -> None:
        line = self._readline(1024)
        if not line:
            raise ValueError("chunked body ended early")
        try:
            self._left = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ValueError("malformed chunk size") from None
        if self._left == 0:
            while self._readline(8192).strip():  # trailers, up to the blank line
                pass
            self._done = True
