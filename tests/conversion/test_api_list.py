"""GET /api/conversion/: the user's jobs, newest first, filtered, cursor-paginated."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from tests.conversion.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob):
    now = timezone.now()
    jobs = [
        make_job(alice, status="completed", chip="KL720", created_at=now - timedelta(days=3)),
        make_job(
            alice,
            status="failed",
            chip="KL520",
            created_at=now - timedelta(days=2),
            error_code="bie_failed",
            error_message="bad images",
            error_stage="bie",
        ),
        make_job(alice, status="completed", chip="KL520", created_at=now - timedelta(days=1)),
        make_job(alice, status="running", chip="KL720", created_at=now - timedelta(hours=1)),
        make_job(
            alice,
            status="failed",
            chip="KL720",
            created_at=now - timedelta(minutes=30),
            error_code="cancelled",
            error_message="cancelled",
            error_stage="nef",
        ),
    ]
    make_job(bob, status="completed")
    return jobs


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [job["job_id"] for job in response.json()["results"]]


def test_newest_first_and_only_the_users(alice_client, history):
    assert _ids(alice_client.get("/api/conversion/")) == [j.job_id for j in reversed(history)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=completed", [2, 0]),
        ("platform=520", [2, 1]),
        ("status=completed&platform=720", [0]),
        ("status=&platform=", [4, 3, 2, 1, 0]),
        # Cancelled is a failure with the cancel's code: its own filter, and among failed.
        ("status=cancelled", [4]),
        ("status=failed", [4, 1]),
    ],
)
def test_filters(alice_client, history, query, expected):
    assert _ids(alice_client.get(f"/api/conversion/?{query}")) == [
        history[i].job_id for i in expected
    ]


def test_date_range(alice_client, history):
    after = (timezone.now() - timedelta(days=2, hours=12)).isoformat()
    before = (timezone.now() - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = alice_client.get(
        "/api/conversion/", {"created_after": after, "created_before": before}
    )
    assert _ids(response) == [history[2].job_id, history[1].job_id]


def test_a_failed_job_carries_its_hint(alice_client, history):
    results = alice_client.get("/api/conversion/?status=failed").json()["results"]
    failed = next(job for job in results if job["error"]["code"] == "bie_failed")
    assert "reference images" in failed["error"]["hint"]


def test_cursor_pages_cover_every_job_once(alice_client, history):
    seen, url = [], "/api/conversion/?page_size=3"
    while url:
        body = alice_client.get(url).json()
        seen += [job["job_id"] for job in body["results"]]
        url = body["next"]
    assert seen == [j.job_id for j in reversed(history)]


@pytest.mark.parametrize(
    "query",
    [
        "status=done",
        "platform=999",
        "created_after=yesterday",
        "created_after=2026-01-01",
        "created_before=2026-01-01T00:00",
        "created_after=",
        "page_size=",
        "page_size=0",
        "status=failed&status=completed",
    ],
)
def test_bad_filters_are_400(alice_client, history, query):
    response = alice_client.get(f"/api/conversion/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",  # not base64: DRF's own "Invalid cursor"
        _cursor("p=2026"),  # a position the database would refuse
        _cursor("r=1&p=x"),
        _cursor("p=" + "9" * 30),
        _cursor("p="),
        _cursor("p=\x00"),
        _cursor("p=2026-01-01T00:00:00"),  # no time zone
        _cursor("p=9999-12-31T23:59:59-23:59"),  # past year 9999 in UTC
        _cursor("p=0001-01-01T00:00:00+01:00"),
        _cursor("o=abc"),
        _cursor("o=-1"),
    ],
)
def test_an_invalid_cursor_is_400_naming_it(alice_client, history, cursor):
    response = alice_client.get("/api/conversion/", {"cursor": cursor})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [field["field"] for field in error["details"]["fields"]] == ["cursor"]


def test_a_cursor_with_a_real_position_pages_on(alice_client, history):
    # As DRF encodes one: a query string ("+" of the offset escaped).
    cursor = _cursor(urlencode({"p": history[2].created_at.isoformat()}))
    response = alice_client.get("/api/conversion/", {"cursor": cursor})
    assert response.status_code == 200, response.content
    assert [job["job_id"] for job in response.json()["results"]] == [
        history[1].job_id,
        history[0].job_id,
    ]


def test_signed_out_is_401(client, history):
    assert client.get("/api/conversion/").status_code == 401
