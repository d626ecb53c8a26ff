"""Hand-built multipart/form-data bodies, for tests that need exact bytes (a body cut
short, a part without a filename, one the converter's parser reads as a file)."""

from __future__ import annotations


def multipart_body(
    parts: list[tuple[str, str | None, bytes]],
    boundary: str,
    *,
    file_content_type: str | None = None,
    close: bool = True,
) -> bytes:
    """parts: (name, filename or None for a text field, content). ``close=False``
    leaves off the closing boundary, as a client cut off mid-upload would."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None and file_content_type:
            out += f"Content-Type: {file_content_type}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")
