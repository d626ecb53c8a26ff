"""The sandbox converter's stand-in NEF: its layout, written by visionA's sandbox and
read by the demo device, which runs the model it carries.

    b"VISIONA-SANDBOX-NEF\\n"
    one JSON line: format, platform, job_id, source_model_sha256, a note, and
        "model": {"type": "onnx", "bytes": N, "sha256", "quantization": {...}}
        (or "model": null and "model_missing": why)
    the model: N bytes, an int8-quantized ONNX model (or 8 KiB of padding without one)
    4 bytes: CRC-32 of everything before it, big-endian (as a real NEF ends)

The same layout with ``BIE`` stands in for the quantized model. A real Kneron NEF does
not start with the magic line: ``is_sandbox_nef`` tells them apart.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

_PADDING_BLOCKS = 256  # x 32 bytes = 8 KiB
NOTE = "not a real NEF: produced by the visionA sandbox converter"


def magic(kind: str = "nef") -> bytes:
    return f"VISIONA-SANDBOX-{kind.upper()}\n".encode()


def is_sandbox_nef(head: bytes, kind: str = "nef") -> bool:
    """Whether a file's first bytes are the stand-in's (a real NEF's are not)."""
    return head.startswith(magic(kind))


def build(
    *,
    platform: str,
    job_id: str,
    model_sha256: str,
    kind: str = "nef",
    model: bytes | None = None,
    quantization: dict[str, Any] | None = None,
    model_missing: str = "",
) -> bytes:
    """The stand-in file; ``model``, when given, is the quantized ONNX it carries."""
    header: dict[str, Any] = {
        "format": kind,
        "platform": platform,
        "job_id": job_id,
        "source_model_sha256": model_sha256,
        "note": NOTE.replace("NEF", kind.upper()),
        "model": None,
    }
    if model is not None:
        header["model"] = {
            "type": "onnx",
            "bytes": len(model),
            "sha256": hashlib.sha256(model).hexdigest(),
            "quantization": quantization or {},
        }
        payload = model
    else:
        header["model_missing"] = model_missing or "the sandbox made no model for this job"
        payload = b"".join(
            hashlib.sha256(f"{job_id}:{block}".encode()).digest()
            for block in range(_PADDING_BLOCKS)
        )
    body = magic(kind) + json.dumps(header, sort_keys=True).encode() + b"\n" + payload
    return body + zlib.crc32(body).to_bytes(4, "big")


def parse(data: bytes, kind: str = "nef") -> dict[str, Any]:
    """The header of a stand-in file; ValueError if it is not one or is damaged."""
    header, _ = _split(data, kind)
    return header


def carried_model(data: bytes, kind: str = "nef") -> bytes | None:
    """The ONNX model the stand-in carries, or None; ValueError as ``parse``."""
    header, rest = _split(data, kind)
    model = header.get("model")
    if not isinstance(model, dict):
        return None
    size = int(model.get("bytes") or 0)
    payload = rest[:size]
    if len(payload) != size or hashlib.sha256(payload).hexdigest() != model.get("sha256"):
        raise ValueError("the carried model does not match its header")
    return bytes(payload)


def _split(data: bytes, kind: str) -> tuple[dict[str, Any], memoryview]:
    start = magic(kind)
    if not data.startswith(start) or len(data) < len(start) + 4:
        raise ValueError(f"not a sandbox {kind.upper()} file")
    body, trailer = memoryview(data)[:-4], data[-4:]
    if zlib.crc32(body).to_bytes(4, "big") != trailer:
        raise ValueError("CRC-32 mismatch: the file is damaged")
    end = data.find(b"\n", len(start))
    if end < 0:
        raise ValueError("the header line has no end")
    try:
        header = json.loads(data[len(start) : end])
    except ValueError:
        raise ValueError("the header line is not JSON") from None
    if not isinstance(header, dict):
        raise ValueError("the header line is not a JSON object")
    return header, body[end + 1 :]
