"""The sandbox's "compiled model": plainly a fake, with a checksum to verify.

    b"VISIONA-SANDBOX-NEF\n"
    one JSON line: format, platform, job_id, source model sha256, a note
    padding (deterministic bytes, so a file is not trivially small)
    4 bytes: CRC-32 of everything before it, big-endian

The same layout with ``BIE`` stands in for the quantized model.
"""

from __future__ import annotations

import hashlib
import json
import zlib

_PADDING_BLOCKS = 256  # x 32 bytes = 8 KiB
_NOTE = "not a real NEF: produced by the visionA sandbox converter"


def magic(kind: str = "nef") -> bytes:
    return f"VISIONA-SANDBOX-{kind.upper()}\n".encode()


def build(*, platform: str, job_id: str, model_sha256: str, kind: str = "nef") -> bytes:
    header = {
        "format": kind,
        "platform": platform,
        "job_id": job_id,
        "source_model_sha256": model_sha256,
        "note": _NOTE.replace("NEF", kind.upper()),
    }
    padding = b"".join(
        hashlib.sha256(f"{job_id}:{block}".encode()).digest() for block in range(_PADDING_BLOCKS)
    )
    body = magic(kind) + json.dumps(header, sort_keys=True).encode() + b"\n" + padding
    return body + zlib.crc32(body).to_bytes(4, "big")


def parse(data: bytes, kind: str = "nef") -> dict:
    """The header of a sandbox artifact; ValueError if it is not one or is damaged."""
    start = magic(kind)
    if not data.startswith(start) or len(data) < len(start) + 4:
        raise ValueError(f"not a sandbox {kind.upper()} file")
    body, trailer = data[:-4], data[-4:]
    if zlib.crc32(body).to_bytes(4, "big") != trailer:
        raise ValueError("CRC-32 mismatch: the file is damaged")
    line = body[len(start) :].split(b"\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        raise ValueError("the header line is not JSON") from None
