"""A token's secret never reaches the log: not from our lines, not from Django's."""

from __future__ import annotations

import logging

import pytest

from tests.test_log_redaction import console  # noqa: F401  (a fixture)
from tests.tokens.conftest import bearer
from tokens import services
from visiona.log import JsonFormatter, TextFormatter, redact

pytestmark = pytest.mark.django_db


def test_every_token_path_logs_without_the_secret(client, alice, make_token, console, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        issued = make_token(alice)
        client.get("/api/models/", **bearer(issued.secret))
        client.get("/api/models/", **bearer(issued.secret + "x"))  # invalid
        services.token_revoke(token=issued.token, by=alice)
        client.get("/api/models/", **bearer(issued.secret))  # revoked
        client.get("/api/does-not-exist", **bearer(issued.secret))
    finally:
        logging.getLogger().setLevel(logging.INFO)
    written = console.getvalue() + caplog.text
    assert "personal token created" in written and "personal token revoked" in written
    assert issued.secret not in written
    assert issued.secret[8:] not in written


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer vap_{s}",
        "headers={{'Authorization': 'Bearer {s}'}}",
        "GET /api/models/?token=vap_{s} 401",
        "device token vad_{s} refused",
    ],
)
def test_the_formatters_mask_bearer_tokens(line):
    secret = "AbCdEf0123456789_-xyzXYZ"
    text = line.format(s=secret)
    assert secret not in redact(text)
    record = logging.LogRecord("x", logging.WARNING, "", 0, text, None, None)
    for formatter in (TextFormatter("%(message)s"), JsonFormatter()):
        assert secret not in formatter.format(record)
