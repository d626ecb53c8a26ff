"""Every request has an id: echoed in a header and present in every log line."""

import json
import logging

import pytest

from visiona.log import JsonFormatter, RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db


def test_it_generates_an_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-Id"]) == 32


def test_it_keeps_a_sane_incoming_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert response["X-Request-Id"] == "edge-1234abcd"


@pytest.mark.parametrize("bad", ["short", "x" * 200, "evil\nInjected: yes", "a b c d e f g h"])
def test_it_replaces_an_insane_incoming_id(client, bad):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-Id"] != bad
    assert len(response["X-Request-Id"]) == 32


def test_log_lines_of_a_request_carry_its_id(client, caplog, monkeypatch):
    seen = []

    def spy(request):
        logging.getLogger("visiona.test").info("inside the request")
        seen.append(request_id_var.get())
        from django.http import HttpResponse

        return HttpResponse("ok")

    monkeypatch.setattr("visiona.health.run_checks", lambda: spy(None) and {})
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="trace-000000001")
    record = next(r for r in caplog.records if r.getMessage() == "inside the request")
    assert record.request_id == "trace-000000001" == response["X-Request-Id"]
    assert request_id_var.get() == "-"  # reset after the request


def test_the_json_format_is_one_object_per_line():
    record = logging.LogRecord("visiona.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.request_id = "abc"
    record.job_id = "j-1"
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "hello you"
    assert payload["request_id"] == "abc"
    assert payload["job_id"] == "j-1"
    assert payload["level"] == "INFO"
    assert "\n" not in line
