"""Writing the converter's form: rebuilt part heads, the closing delimiter, and the
output stream joined into sensible pieces.

Part headers are written from the parsed name and filename, never copied:
parsers disagree on headers such as ``name="x"; name="user_id"``, and a copied
header would let the converter read a name we never checked.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

# Below this, output pieces are joined so the upstream request is not a stream of
# tiny chunked-encoding frames; larger pieces go out as they are, without a copy.
COALESCE_BELOW = 64 * 1024
# RFC 6838 restricted names, without parameters.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def new_boundary() -> str:
    # Unguessable, so no file body the client chose can contain our delimiter.
    return f"visiona-{secrets.token_hex(16)}"


def safe_media_type(value: str | None) -> str:
    return value if value and _MEDIA_TYPE.fullmatch(value) else DEFAULT_MEDIA_TYPE


class FormWriter:
    """The outgoing form's delimiters and part heads."""

    def __init__(self, boundary: str) -> None:
        self.boundary = boundary
        self._delimiter = f"--{boundary}".encode("ascii")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def head(self, name: str, filename: str | None = None, media_type: str = "") -> bytes:
        head = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            head += f'; filename="{filename}"\r\nContent-Type: {media_type}'
        return self._delimiter + b"\r\n" + head.encode() + b"\r\n\r\n"

    def text_part(self, name: str, value: bytes) -> bytes:
        return self.head(name) + value + b"\r\n"

    def closing_delimiter(self) -> bytes:
        return self._delimiter + b"--\r\n"


class Output:
    """Counts what goes out and joins small pieces; never yields an empty chunk."""

    def __init__(self) -> None:
        self.bytes_out = 0
        self._pending = bytearray()

    def put(self, data: bytes | bytearray) -> Iterator[bytes]:
        if len(data) < COALESCE_BELOW:
            self._pending += data
            if len(self._pending) >= COALESCE_BELOW:
                yield from self.flush()
            return
        yield from self.flush()
        self.bytes_out += len(data)
        yield bytes(data)  # no copy when the parser already gave bytes

    def flush(self) -> Iterator[bytes]:
        if self._pending:
            chunk = bytes(self._pending)
            self._pending.clear()
            self.bytes_out += len(chunk)
            yield chunk
