"""The development (text) log shows each line's fields after its message, as the
JSON log does as keys: "upstream call" with its endpoint, job, status, attempt, time."""

from __future__ import annotations

import io
import logging

import pytest

from visiona.log import TextFormatter

FORMAT = "%(levelname)s %(name)s [%(request_id)s] %(message)s"


@pytest.fixture
def text_log():
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(TextFormatter(FORMAT))
    logger = logging.getLogger("tests.text_log")
    logger.addHandler(handler)
    logger.propagate, previous = False, logger.propagate
    logger.setLevel(logging.INFO)
    yield logger, output
    logger.removeHandler(handler)
    logger.propagate = previous


def test_an_upstream_call_shows_its_fields(text_log):
    logger, output = text_log
    logger.info(
        "upstream call",
        extra={
            "request_id": "r-1",
            "upstream": "converter",
            "endpoint": "GET /api/v1/jobs/{job_id}",
            "job_id": "job-1",
            "status": 200,
            "attempt": 1,
            "duration_ms": 12,
        },
    )
    assert output.getvalue() == (
        "INFO tests.text_log [r-1] upstream call upstream=converter "
        'endpoint="GET /api/v1/jobs/{job_id}" job_id=job-1 status=200 attempt=1 '
        "duration_ms=12\n"
    )


def test_a_line_without_fields_is_unchanged_and_none_is_left_out(text_log):
    logger, output = text_log
    logger.info("plain", extra={"request_id": "-"})
    logger.info("no status", extra={"request_id": "-", "status": None, "attempt": 2})
    assert output.getvalue().splitlines() == [
        "INFO tests.text_log [-] plain",
        "INFO tests.text_log [-] no status attempt=2",
    ]


def test_field_values_are_masked_too(text_log):
    logger, output = text_log
    logger.info("redirect", extra={"request_id": "-", "url": "https://faa/x?access_token=s3cr3t"})
    assert "s3cr3t" not in output.getvalue()
    assert "access_token=[redacted]" in output.getvalue()


def test_the_configured_text_console_shows_them(settings):
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    if settings.LOG_FORMAT != "text":
        pytest.skip("the suite logs as text (tests/settings.py); this run does not")
    record = logging.LogRecord(
        "conversion.clients.http", logging.INFO, "", 0, "upstream call", (), None
    )
    record.request_id, record.upstream, record.status = "-", "faa", 503
    assert handler.format(record).endswith("upstream call upstream=faa status=503")


def test_objects_are_left_out(text_log):
    logger, output = text_log
    logger.info("served", extra={"request_id": "-", "request": object(), "status_code": 404})
    assert output.getvalue() == "INFO tests.text_log [-] served status_code=404\n"
