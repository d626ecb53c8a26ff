"""Polls: one converter lookup per job per interval, conditional requests, no write when
unchanged, the budget's stretched intervals and its priority for users."""

from __future__ import annotations

import logging

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversion import refresh_policy
from conversion.clients import budget
from conversion.models import ConversionJob
from tests.conversion.factories import make_job
from tests.conversion.upstreams import CONVERTER, job_json

pytestmark = pytest.mark.django_db


def job_url(job_id: str) -> str:
    return f"{CONVERTER}/api/v1/jobs/{job_id}"


def gets(upstream, job_id: str) -> list:
    return [call for call in upstream.calls if call.request.url == job_url(job_id)]


def test_many_polls_in_one_interval_make_one_converter_lookup(alice_client, alice, upstream):
    row = make_job(alice)
    upstream.add(responses.GET, job_url(row.job_id), json=job_json(row.job_id, progress=41))
    bodies = [alice_client.get(f"/api/conversion/{row.job_id}").json() for _ in range(10)]
    assert len(gets(upstream, row.job_id)) == 1
    assert {body["progress"] for body in bodies} == {41}  # the others got the snapshot
    assert all(body["checked_at"] for body in bodies)


def test_the_lookup_is_conditional_and_a_304_writes_nothing(alice_client, alice, upstream):
    row = make_job(alice)
    upstream.add(
        responses.GET, job_url(row.job_id), json=job_json(row.job_id), headers={"ETag": '"v1"'}
    )
    alice_client.get(f"/api/conversion/{row.job_id}")
    assert ConversionJob.objects.get(pk=row.pk).upstream_etag == '"v1"'
    cache_key = refresh_policy._CLAIM_KEY.format(job_id=row.job_id)
    from django.core.cache import cache

    cache.delete(cache_key)  # the interval is over
    upstream.replace(responses.GET, job_url(row.job_id), status=304, headers={"ETag": '"v1"'})
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get(f"/api/conversion/{row.job_id}").status_code == 200
    assert gets(upstream, row.job_id)[-1].request.headers["If-None-Match"] == '"v1"'
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_an_unchanged_snapshot_is_not_written(alice, upstream):
    from conversion import services

    row = make_job(alice)
    upstream.add(responses.GET, job_url(row.job_id), json=job_json(row.job_id))
    services.job_refresh(job=row, priority=budget.USER)
    with CaptureQueriesContext(connection) as queries:
        services.job_refresh(job=ConversionJob.objects.get(pk=row.pk), priority=budget.USER)
    assert len(gets(upstream, row.job_id)) == 2
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_intervals_stretch_evenly_when_the_budget_runs_short(settings):
    settings.CONVERTER_RATE_LIMIT = 300
    settings.CONVERTER_RATE_WINDOW_SECONDS = 300
    settings.CONVERSION_REFRESH_SECONDS = 2
    claims = [refresh_policy.claim(f"job-{n}") for n in range(50)]
    # 298 usable, 238 of them for background refreshes: 50 jobs each every 63 s.
    assert claims[-1].watched == 50
    assert claims[-1].interval == pytest.approx(300 * 50 / 238, rel=0.01)
    assert claims[0].interval == pytest.approx(2 * refresh_policy.BASE_SLACK)


def test_polls_are_served_the_snapshot_when_background_has_used_its_share(
    alice_client, alice, upstream, settings
):
    settings.CONVERTER_RATE_LIMIT = 12  # 10 usable, 8 for background
    while budget.take(budget.BACKGROUND):
        pass
    row = make_job(alice, progress=33)
    upstream.add(responses.GET, job_url(row.job_id), json=job_json(row.job_id, progress=90))
    response = alice_client.get(f"/api/conversion/{row.job_id}")
    assert response.status_code == 200  # never service_busy for a poll
    assert response.json()["progress"] == 33
    assert gets(upstream, row.job_id) == []
    # A user's own call still gets through: the reserve is theirs.
    from conversion.clients import converter

    assert converter.get_job(row.job_id).snapshot.progress == 90


def test_a_429_stops_background_calls_for_its_retry_after(alice_client, alice, upstream):
    row = make_job(alice)
    upstream.add(
        responses.GET,
        job_url(row.job_id),
        status=429,
        json={"error": {"code": "rate_limit_exceeded", "message": "slow", "request_id": "r1"}},
        headers={"Retry-After": "60"},
    )
    assert alice_client.get(f"/api/conversion/{row.job_id}").status_code == 503
    assert budget.take(budget.BACKGROUND) is False
    assert budget.take(budget.USER) is True


def test_the_request_id_goes_upstream_and_the_converters_is_logged(
    alice_client, alice, upstream, caplog
):
    row = make_job(alice)
    upstream.add(
        responses.GET,
        job_url(row.job_id),
        json=job_json(row.job_id),
        headers={"X-Request-Id": "conv-req-7"},
    )
    with caplog.at_level(logging.INFO, logger="visiona.upstream"):
        alice_client.get(f"/api/conversion/{row.job_id}", HTTP_X_REQUEST_ID="support-case-0001")
    assert gets(upstream, row.job_id)[0].request.headers["X-Request-Id"] == "support-case-0001"
    line = next(r for r in caplog.records if getattr(r, "upstream", None) == "converter")
    assert line.upstream_request_id == "conv-req-7"
    assert line.request_id == "support-case-0001"


def test_the_recovery_list_follows_next_cursor_to_the_end(alice_client, alice, upstream):
    first, second = job_json(status="running"), job_json(status="created")
    url = f"{CONVERTER}/api/v1/jobs"
    upstream.add(
        responses.GET,
        url,
        json={"jobs": [first], "total": 2, "next_cursor": "c2"},
        match=[
            responses.matchers.query_param_matcher(
                {"user_id": "sub-alice", "status": "in_progress"}
            )
        ],
    )
    upstream.add(
        responses.GET,
        url,
        json={"jobs": [second], "total": 2, "next_cursor": None},
        match=[
            responses.matchers.query_param_matcher(
                {"user_id": "sub-alice", "status": "in_progress", "cursor": "c2"}
            )
        ],
    )
    alice_client.get("/api/conversion/active")
    assert set(ConversionJob.objects.filter(owner=alice).values_list("job_id", flat=True)) == {
        first["job_id"],
        second["job_id"],
    }


def test_polls_do_not_write_the_session(alice_client, alice, upstream, settings, monkeypatch):
    from importlib import import_module

    row = make_job(alice)
    upstream.add(responses.GET, job_url(row.job_id), json=job_json(row.job_id))
    alice_client.get(f"/api/conversion/{row.job_id}")  # the first may start the session clock
    store = import_module(settings.SESSION_ENGINE).SessionStore
    saves = []
    original = store.save
    monkeypatch.setattr(
        store, "save", lambda self, *a, **k: (saves.append(1), original(self, *a, **k))
    )
    for _ in range(5):
        assert alice_client.get(f"/api/conversion/{row.job_id}").status_code == 200
    assert saves == []
