"""An error answer is logged once, with its request id, at the level it deserves.

Outcomes we chose (an AppError such as ``device_offline``, a device's own answer, an
outage's 503) log at INFO (4xx) or WARNING (5xx) through ``visiona.answers``; Django's
request logger, which would say ERROR for every 5xx after the request id is gone, stays
silent about them. ERROR is left for what nobody chose: an exception we did not handle.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from django.test import Client
from django.urls import path

from tests.devices.conftest import alice_device, issue_code, pair  # noqa: F401  (fixtures)
from visiona.log import request_id_var

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    """Every record of the loggers below, with the request id current when it was made."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.seen: list[tuple[str, int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.levelno, request_id_var.get(), record.getMessage()))

    def of(self, name: str) -> list[tuple[int, str, str]]:
        return [
            (level, rid, message) for logger, level, rid, message in self.seen if logger == name
        ]


@pytest.fixture
def lines():
    handler = Lines()
    loggers = [logging.getLogger(name) for name in ("django.request", "visiona.answers")]
    saved = [(logger, logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level, _propagate in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def request_id() -> str:
    return uuid.uuid4().hex


def test_an_offline_device_is_a_warning_with_the_request_id(alice_client, alice_device, lines):  # noqa: F811
    rid = request_id()
    response = alice_client.get(
        f"/api/devices/{alice_device.device.pk}/agent/api/system/deps", HTTP_X_REQUEST_ID=rid
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "device_offline"
    assert lines.of("visiona.answers") == [
        (logging.WARNING, rid, f"GET {response.wsgi_request.path} answered 503 device_offline")
    ]
    assert lines.of("django.request") == []


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/models/987654", 404, "model_not_found"),
        ("/api/models/?page_size=0", 400, "validation_failed"),
        ("/models/987654/", 404, "not_found"),  # a page
        ("/api/nothing-here", 404, "not_found"),
    ],
)
def test_a_client_error_is_info(alice_client, lines, url, status, code):
    rid = request_id()
    response = alice_client.get(url, HTTP_X_REQUEST_ID=rid)
    assert response.status_code == status
    [(level, logged_rid, message)] = lines.of("visiona.answers")
    assert (level, logged_rid) == (logging.INFO, rid)
    assert message.endswith(f"answered {status} {code}")
    assert lines.of("django.request") == []


def test_an_outage_is_a_warning(session_store_down, lines):
    response = Client().post(
        "/api/agent/pair",
        {"code": "ABCD-EFGH", "serial": "SN-1", "chip": "KL720"},
        content_type="application/json",
    )
    assert response.status_code == 503
    [(level, _rid, message)] = lines.of("visiona.answers")
    assert level == logging.WARNING
    assert message.endswith("answered 503 cache_unavailable")
    assert lines.of("django.request") == []


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom", _boom)]


@pytest.mark.urls("tests.test_answer_logging")
def test_a_bug_is_still_an_error(lines, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False)
    response = client.get("/boom")
    assert response.status_code == 500
    levels = [level for level, _rid, _message in lines.of("django.request")]
    assert levels == [logging.ERROR]
    assert lines.of("visiona.answers") == []  # Django said it, with the traceback
