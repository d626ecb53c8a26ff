"""Polling jobs, the active job and its lazy rebuild, ownership."""

from __future__ import annotations

import functools
import json
import threading
import time
from datetime import UTC, datetime

import pytest
import responses
from django.db import connection
from django.test import Client

from conversion import tracking_services, upload_lease
from conversion.models import ConversionJob
from tests.conversion.upstreams import (
    CONVERTER,
    job_json,
)
from tests.waiting import wait_for
from visiona.single_flight import single_flight

pytestmark = pytest.mark.django_db


def own(user, job: dict) -> ConversionJob:
    return ConversionJob.objects.create(
        job_id=job["job_id"],
        owner=user,
        chip="KL720",
        filename="yolo.onnx",
        status=job["status"],
        created_at=job["created_at"],
        expires_at=job["expires_at"],
    )


def test_polling_refreshes_the_snapshot(alice_client, alice, upstream):
    job = job_json(status="running", stage="bie", progress=55)
    own(alice, {**job, "status": "created"})
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    body = alice_client.get(f"/api/conversion/{job['job_id']}").json()
    assert (body["status"], body["stage"], body["progress"]) == ("running", "bie", 55)
    stored = ConversionJob.objects.get(job_id=job["job_id"])
    assert (stored.status, stored.stage, stored.progress) == ("running", "bie", 55)


def test_a_failed_job_shows_the_converters_error(alice_client, alice, upstream):
    error = {"code": "quantization_failed", "message": "no images", "stage": "bie"}
    job = job_json(status="failed", stage="bie", error=error)
    own(alice, {**job, "status": "running"})
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    body = alice_client.get(f"/api/conversion/{job['job_id']}").json()
    assert body["status"] == "failed"
    hint = body["error"].pop("hint")
    assert body["error"] == error
    assert "reference images" in hint  # what to try next, as the job page says
    assert ConversionJob.objects.get(job_id=job["job_id"]).finished_at is not None


def test_another_users_job_is_not_found(bob_client, alice, upstream):
    job = job_json()
    own(alice, job)
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    for path in ["", "/download"]:
        response = bob_client.get(f"/api/conversion/{job['job_id']}{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "job_not_found"
    response = bob_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.json()["error"]["code"] == "job_not_found"
    unknown = bob_client.get("/api/conversion/00000000-0000-0000-0000-000000000000")
    assert unknown.json()["error"]["code"] == "job_not_found"
    assert len(upstream.calls) == 0  # refused before asking anyone


def test_a_finished_job_is_served_from_history(alice_client, alice, upstream):
    job = job_json(status="completed")
    own(alice, job)
    assert alice_client.get(f"/api/conversion/{job['job_id']}").json()["status"] == "completed"
    assert len(upstream.calls) == 0


def test_active_is_null_without_jobs(alice_client, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    assert alice_client.get("/api/conversion/active").json() == {
        "job": None,
        "upload_in_progress": False,
    }


def test_active_says_when_an_upload_of_the_user_is_still_streaming(
    alice_client, alice, bob, upstream
):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    with upload_lease.upload_lease(user=alice):
        assert alice_client.get("/api/conversion/active").json() == {
            "job": None,
            "upload_in_progress": True,
        }
        assert not upload_lease.upload_in_progress(user=bob)
    assert alice_client.get("/api/conversion/active").json()["upload_in_progress"] is False


def test_active_rebuilds_ownership_from_the_converter(alice_client, alice, upstream):
    job = job_json(status="running")
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs",
        json={"jobs": [job], "total": 1, "next_cursor": None},
        match=[
            responses.matchers.query_param_matcher(
                {"user_id": alice.upstream_id, "status": "in_progress"}
            )
        ],
    )
    body = alice_client.get("/api/conversion/active").json()
    assert body["job"]["job_id"] == job["job_id"]
    assert ConversionJob.objects.get(job_id=job["job_id"]).owner == alice


def test_active_confirms_a_known_job_with_the_converter(alice_client, alice, upstream):
    job = job_json(status="completed")
    own(alice, {**job, "status": "running"})
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    assert alice_client.get("/api/conversion/active").json()["job"] is None
    assert ConversionJob.objects.get(job_id=job["job_id"]).status == "completed"


# Threads need a database that takes concurrent writers, and "across workers"
# means the lock lives in Redis.
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_rebuilds_for_one_user_make_one_converter_call(
    alice, bob, upstream, monkeypatch
):
    alice_job, bob_job = job_json(), job_json()
    by_user = {alice.upstream_id: alice_job, bob.upstream_id: bob_job}
    callers = {alice.upstream_id: 8, bob.upstream_id: 4}
    user_of_thread: dict[int, str] = {}
    waiting: set[int] = set()  # threads polling for another caller's rebuild

    def poll_sleep(seconds: float) -> None:
        waiting.add(threading.get_ident())
        time.sleep(seconds)

    monkeypatch.setattr(
        tracking_services, "single_flight", functools.partial(single_flight, sleep=poll_sleep)
    )

    def in_progress(request):
        user_id = request.params["user_id"]

        def piled_up() -> bool:
            return [user_of_thread[t] for t in set(waiting)].count(user_id) == callers[user_id] - 1

        # Every other caller of this user waits behind this one converter call.
        wait_for(piled_up, timeout=30, interval=0.01)
        return 200, {}, json.dumps({"jobs": [by_user[user_id]], "total": 1})

    upstream.add_callback(responses.GET, f"{CONVERTER}/api/v1/jobs", callback=in_progress)
    # A caller that arrives once the rebuild has recorded the job (a loaded machine
    # starts threads late) confirms the recorded job instead.
    for job in (alice_job, bob_job):
        upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    results = []

    def poll(user):
        user_of_thread[threading.get_ident()] = user.upstream_id
        client = Client()
        client.force_login(user)
        try:
            job = client.get("/api/conversion/active").json()["job"]
            results.append((user.pk, job["job_id"]))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=poll, args=(u,)) for u in [alice] * 8 + [bob] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    list_calls = [c for c in upstream.calls if c.request.url.split("?")[0].endswith("/jobs")]
    assert sorted(c.request.params["user_id"] for c in list_calls) == sorted(
        [alice.upstream_id, bob.upstream_id]
    )
    assert sorted(results) == sorted(
        [(alice.pk, alice_job["job_id"])] * 8 + [(bob.pk, bob_job["job_id"])] * 4
    )


def test_every_endpoint_answers_501_when_disabled(alice_client, settings):
    settings.FAA_BASE_URL = ""
    settings.CONVERTER_BASE_URL = ""
    job_id = "00000000-0000-0000-0000-000000000001"
    requests_ = [
        ("get", "/api/conversion/active"),
        ("get", f"/api/conversion/{job_id}"),
        ("post", f"/api/conversion/{job_id}/promote-to-models"),
        ("get", f"/api/conversion/{job_id}/download"),
    ]
    for method, path in requests_:
        response = getattr(alice_client, method)(path)
        assert response.status_code == 501, path
        assert response.json()["error"]["code"] == "conversion_disabled"


def test_a_job_on_a_platform_we_do_not_know_still_answers(alice_client, alice, upstream):
    job = job_json(parameters={"platform": "999"})
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [job], "total": 1})
    body = alice_client.get("/api/conversion/active").json()
    assert body["job"]["job_id"] == job["job_id"]
    assert (body["job"]["chip"], body["job"]["platform"]) == ("", "")
    assert alice_client.get(f"/convert/{job['job_id']}/").status_code == 200


def test_a_job_the_converter_lost_is_failed_and_no_longer_blocks(alice_client, alice, upstream):
    job = job_json(status="running")
    own(alice, job)
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs/{job['job_id']}",
        status=404,
        json={"error": {"code": "job_not_found", "message": "m", "details": {}}},
    )
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    assert alice_client.get("/api/conversion/active").json()["job"] is None
    body = alice_client.get(f"/api/conversion/{job['job_id']}").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "job_lost"


def test_a_poll_takes_times_without_an_offset_as_utc(alice_client, alice, upstream):
    # The converter may write "2026-11-24T10:00:00" (no Z): that is UTC, not a 500.
    job = job_json(status="running")
    own(alice, {**job, "status": "created"})
    naive = {"created_at": "2026-11-24T10:00:00", "updated_at": "2026-11-24T10:05:00.123"}
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json={**job, **naive})
    response = alice_client.get(f"/api/conversion/{job['job_id']}")
    assert response.status_code == 200, response.content
    assert response.json()["created_at"].startswith("2026-11-24T10:00:00")
    stored = ConversionJob.objects.get(job_id=job["job_id"])
    assert stored.created_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_a_job_the_converter_files_under_another_owner_is_never_handed_over(
    alice_client, alice, bob, upstream
):
    # The row says Bob's; the converter lists it under Alice's id (a mix-up
    # upstream, or ids reused): Alice must not get it, Bob must keep it.
    job = job_json(status="running")
    own(bob, job)
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [job], "total": 1})
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    assert alice_client.get("/api/conversion/active").json()["job"] is None
    assert ConversionJob.objects.get(job_id=job["job_id"]).owner == bob
    assert alice_client.get(f"/api/conversion/{job['job_id']}").status_code == 404


def test_a_converter_refusing_even_a_new_token_is_idp_misconfigured(alice_client, alice, upstream):
    job = job_json(status="running")
    own(alice, job)
    refused = {"error": {"code": "insufficient_scope", "message": "m", "details": {}}}
    upstream.add(
        responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", status=403, json=refused
    )
    response = alice_client.get(f"/api/conversion/{job['job_id']}")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "idp_misconfigured"
    assert "support" in error["message"]
