"""Fake upstreams for API tests, at the HTTP boundary (``responses``).

The URLs and shapes follow docs/upstreams.md, independently of the
client code, so these tests check the clients' real requests.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import multipart
import pytest
import responses

from tests import onnx_models
from tests.multipart import multipart_body as build_multipart

CONVERTER = "http://converter.test"
FAA = "http://faa.test"
MC = "http://mc.test"


@pytest.fixture
def upstream_settings(settings):
    settings.CONVERTER_BASE_URL = CONVERTER
    settings.FAA_BASE_URL = FAA
    settings.MC_SERVICE_ISSUER = MC
    settings.MC_TENANT_ID = "tenant-1"
    settings.MC_SERVICE_CLIENT_ID = "visiona"
    settings.MC_SERVICE_CLIENT_SECRET = "service-secret"
    return settings


@pytest.fixture
def upstream(upstream_settings, monkeypatch):
    """A responses mock with Member Center's token endpoint answering."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{MC}/oauth/token",
            json={"access_token": "svc-token", "token_type": "Bearer", "expires_in": 3600},
        )
        yield mock


def job_json(job_id: str | None = None, *, status="running", stage="bie", **extra) -> dict:
    now = datetime.now(UTC)
    job = {
        "job_id": job_id or str(uuid.uuid4()),
        "status": status,
        "stage": stage,
        "progress": 40,
        "stage_progress": 10,
        "created_at": (now - timedelta(minutes=1)).isoformat(),
        "updated_at": now.isoformat(),
        "expires_at": (now + timedelta(days=7)).isoformat(),
        "input": {"filename": "yolo.onnx"},
        "parameters": {"platform": "720"},
    }
    if status == "completed":
        job.update(stage=None, progress=100, stage_progress=100)
    job.update(extra)
    return job


BOUNDARY = "----visionaTestBoundary7MA4YWxkTrZu0gW"


def multipart_body(parts: list[tuple[str, str | None, bytes]], boundary: str = BOUNDARY) -> bytes:
    """parts: (name, filename or None, content)."""
    return build_multipart(parts, boundary, file_content_type="application/octet-stream")


# What images start with: the upload proxy refuses reference images that do not.
JPEG_START = b"\xff\xd8\xff"
PNG_START = b"\x89PNG\r\n\x1a\n"

# A real (tiny) ONNX model: the upload proxy's pre-flight refuses anything else.
TINY_MODEL = onnx_models.bytes_of(onnx_models.model(("Relu",)))


def standard_parts(model: bytes = TINY_MODEL, images: int = 2) -> list:
    parts = [
        ("platform", None, b"720"),
        ("model_id", None, b"32769"),
        ("version", None, b"0001"),
        ("model", "yolo.onnx", model),
    ]
    parts += [("ref_images", f"img{i}.jpg", JPEG_START + bytes([i]) * 500) for i in range(images)]
    return parts


def parse_upstream_form(request) -> list[tuple[str, str | None, bytes]]:
    """What the converter received: (name, filename, bytes) per part, in order."""
    body = request.body
    if not isinstance(body, bytes | bytearray):
        body = b"".join(body)
    content_type = request.headers["Content-Type"]
    boundary = content_type.split("boundary=", 1)[1].strip('"')
    parser = multipart.MultipartParser(__import__("io").BytesIO(body), boundary)
    return [(part.name, part.filename, part.raw) for part in parser]


def json_body(request) -> dict:
    return json.loads(request.body)
