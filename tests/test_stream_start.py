"""A streamed answer that fails before its first block is the envelope (or the page),
not gunicorn's bare 500: its first block is taken inside Django's handling."""

from __future__ import annotations

import pytest
from django.http import StreamingHttpResponse
from django.urls import include, path

from models_repo.errors import ModelFileUnavailable

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

closed: list[str] = []


def _failing(error: Exception):
    try:
        raise error
        yield b"never"
    finally:
        closed.append("closed")


def _fine():
    yield b"first "
    yield b"second"


def failing_api(request):
    return StreamingHttpResponse(_failing(ModelFileUnavailable()))


def failing_page(request):
    return StreamingHttpResponse(_failing(RuntimeError("internals: secret=1")))


def fine(request):
    return StreamingHttpResponse(_fine())


urlpatterns = [
    path("api/test/stream-fails", failing_api),
    path("test/stream-fails", failing_page),
    path("api/test/stream", fine),
    path("", include("visiona.urls")),
]


def test_an_app_error_before_the_first_block_is_its_envelope(client):
    closed.clear()
    response = client.get("/api/test/stream-fails", HTTP_X_REQUEST_ID="stream-start-01")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_file_unavailable"
    assert response.json()["error"]["request_id"] == "stream-start-01"
    assert closed == ["closed"]


def test_any_other_failure_is_a_500_page_without_internals(client):
    response = client.get("/test/stream-fails")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"secret" not in response.content


def test_a_stream_that_works_is_sent_whole(client):
    response = client.get("/api/test/stream")
    assert b"".join(response.streaming_content) == b"first second"
