"""The CLI's tables show the API's times (UTC) in this machine's time zone, as ``ls``
and ``git log`` do; its JSON results keep the API's own values."""

from __future__ import annotations

import time

import pytest
from visiona_client.visiona_cli.output import local_time


@pytest.fixture
def in_taipei(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Taipei")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_an_api_time_is_shown_in_local_time(in_taipei):
    assert local_time("2026-12-07T01:02:03Z") == "2026-12-07 09:02:03"
    assert local_time("2026-12-07T01:02:03.456789+00:00") == "2026-12-07 09:02:03"


def test_no_time_and_a_strange_one(in_taipei):
    assert local_time(None) == "-"
    assert local_time("") == "-"
    assert local_time("yesterday") == "yesterday"
