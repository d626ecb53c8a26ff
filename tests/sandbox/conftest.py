"""Fixtures for the sandbox upstreams: a private folder, a movable clock, tokens."""

from __future__ import annotations

import base64

import pytest

from sandbox import clock
from tests.multipart import multipart_body as build_multipart

CLIENT_ID = "visiona-test"
CLIENT_SECRET = "test-secret"
ALL_SCOPES = (
    "converter:job.write converter:job.read files:download.read "
    "files:download.delegate files:upload.write"
)
BOUNDARY = "sandboxTestBoundary0123456789"
MC = "/sandbox/mc"
CONVERTER = "/sandbox/converter"
FAA = "/sandbox/faa"


@pytest.fixture(autouse=True)
def sandbox_settings(settings, tmp_path):
    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.MC_SERVICE_CLIENT_ID = CLIENT_ID
    settings.MC_SERVICE_CLIENT_SECRET = CLIENT_SECRET
    settings.SANDBOX_TOKEN_TTL_SECONDS = 3600
    settings.SANDBOX_STAGE_SECONDS = 0
    settings.SANDBOX_MAX_CONCURRENT_UPLOADS = 5
    return settings


class FakeClock:
    def __init__(self) -> None:
        self.time = 1_750_000_000.0

    def __call__(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def basic_auth(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def get_token(client):
    """A service token from the sandbox Member Center for the given scopes."""

    def get(scope: str = ALL_SCOPES) -> str:
        response = client.post(
            f"{MC}/oauth/token",
            {"grant_type": "client_credentials", "scope": scope},
            HTTP_AUTHORIZATION=basic_auth(),
        )
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return get


@pytest.fixture
def token(get_token) -> str:
    return get_token()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def multipart_body(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """parts: (name, filename or None for a text field, content)."""
    return build_multipart(parts, BOUNDARY)


def job_parts(
    user_id: str = "user-1",
    platform: str = "720",
    filename: str = "yolo.onnx",
    model: bytes = b"onnx" * 64,
    images: int = 2,
) -> list[tuple[str, str | None, bytes]]:
    parts = [
        ("user_id", None, user_id.encode()),
        ("platform", None, platform.encode()),
        ("model_id", None, b"32769"),
        ("version", None, b"0001"),
        ("model", filename, model),
    ]
    return parts + [
        ("ref_images", f"img{i}.jpg", b"\xff\xd8\xff" + bytes([i]) * 100) for i in range(images)
    ]


@pytest.fixture
def create_job(client, token):
    """POSTs a job to the sandbox converter and returns the response."""

    def create(parts=None, *, auth: str | None = None, **fields):
        return client.post(
            f"{CONVERTER}/api/v1/jobs",
            multipart_body(parts if parts is not None else job_parts(**fields)),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            **bearer(auth or token),
        )

    return create
