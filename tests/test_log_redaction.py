"""Secrets in URLs never reach the log, whichever logger wrote the line."""

from __future__ import annotations

import io
import logging
import threading

import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

from visiona.log import JsonFormatter, TextFormatter

SECRET = "delegated-SECRET-token.value_1"


@pytest.fixture
def console():
    """What the configured console handler writes."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    output = io.StringIO()
    previous = handler.setStream(output)
    yield output
    handler.setStream(previous)


def serve_one(path: str) -> int:
    """One request through Django's development server (what runserver runs)."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, ipv6=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        session = requests.Session()
        session.trust_env = False
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        return session.get(url, timeout=10).status_code
    finally:
        thread.join(10)
        server.server_close()


def test_a_refused_faa_download_in_development_logs_no_token(console, capsys, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    status = serve_one(f"/sandbox/faa/files/tenants/t/model.nef?access_token={SECRET}")
    assert status == 401  # the sandbox FAA refuses the (forged) delegated token
    written = console.getvalue()
    assert "access_token=[redacted] HTTP/1.1" in written  # the line is there, masked
    assert SECRET not in written + capsys.readouterr().err


def test_a_5xx_line_with_the_request_attached_shows_no_token(rf):
    request = rf.get(f"/sandbox/faa/files/k?x=1&access_token={SECRET}")
    record = logging.LogRecord(
        "django.request", logging.ERROR, "", 0, "Internal Server Error: %s", (request.path,), None
    )
    record.request = request  # Django attaches it; the JSON format prints it
    for formatter in (TextFormatter("%(message)s"), JsonFormatter()):
        line = formatter.format(record)
        assert SECRET not in line
    assert "x=1&access_token=[redacted]" in JsonFormatter().format(record)


def test_other_query_values_are_kept():
    record = logging.LogRecord("x", logging.INFO, "", 0, "GET /api/x?page=2&status=code", (), None)
    assert JsonFormatter().format(record).count("page=2&status=code") == 1
