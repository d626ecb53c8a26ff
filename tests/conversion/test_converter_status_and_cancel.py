"""What the user sees of the converter: its health (convert page, /api/system/health),
stage timings and queue position on the job page, and cancel where it is supported."""

from __future__ import annotations

import re

import pytest
import responses
from django.test import Client

from conversion.models import ConversionJob
from tests.conversion.factories import make_job
from tests.conversion.upstreams import CONVERTER, job_json

pytestmark = pytest.mark.django_db


def health_is(upstream, status: str, code: int = 200) -> None:
    upstream.add(responses.GET, f"{CONVERTER}/health", json={"status": status}, status=code)


def no_active_job(upstream) -> None:
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})


@pytest.mark.parametrize("status", ["unhealthy", "unreachable"])
def test_the_convert_form_is_disabled_with_the_reason_when_the_converter_is_down(
    alice_client, upstream, status
):
    no_active_job(upstream)
    if status == "unhealthy":
        health_is(upstream, "unhealthy", 503)
    page = alice_client.get("/convert/").content.decode()
    assert 'id="convert-fields" disabled' in page
    assert 'id="converter-health"' in page and f'data-status="{status}"' in page
    assert "uploads are paused" in page


def test_a_degraded_converter_is_said_but_the_form_stays_usable(alice_client, upstream):
    no_active_job(upstream)
    health_is(upstream, "degraded")
    page = alice_client.get("/convert/").content.decode()
    assert 'id="convert-fields">' in page
    assert "degraded service" in page


def test_health_is_asked_once_per_30_s_for_everyone(alice_client, bob_client, upstream):
    no_active_job(upstream)
    health_is(upstream, "healthy")
    for client in (alice_client, bob_client, alice_client):
        assert 'id="convert-fields">' in client.get("/convert/").content.decode()
    assert len([c for c in upstream.calls if c.request.url.endswith("/health")]) == 1


def test_system_health_reports_the_converter(alice_client, upstream):
    health_is(upstream, "degraded")
    body = alice_client.get("/api/system/health").json()
    assert body["converter"]["status"] == "degraded"
    assert body["converter"]["checked_at"]


def test_system_health_says_disabled_without_a_converter(alice_client, settings):
    settings.CONVERTER_BASE_URL = ""
    body = alice_client.get("/api/system/health").json()
    assert body["converter"] == {"status": "disabled", "checked_at": None}


def test_the_job_page_shows_stage_timings_and_the_queue_position(alice_client, alice, upstream):
    done = make_job(alice, status="completed", stage_timings={"onnx": 4, "bie": 65, "nef": 12})
    page = alice_client.get(f"/convert/{done.job_id}/").content.decode()
    assert 'id="stage-timings"' in page
    assert "1 min 5 s" in page and "12 s" in page
    queued = make_job(alice, status="created", stage="")
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs/{queued.job_id}",
        json=job_json(queued.job_id, status="created", stage=None, queue_position=3),
    )
    page = alice_client.get(f"/convert/{queued.job_id}/").content.decode()
    assert "position 3" in page


def cancel_url(job) -> str:
    return f"/api/conversion/{job.job_id}/cancel"


def test_cancel_where_the_converter_supports_it(alice_client, alice, upstream):
    job = make_job(alice)
    upstream.add(responses.DELETE, f"{CONVERTER}/api/v1/jobs/{job.job_id}", json={}, status=200)
    cancelled = job_json(
        job.job_id, status="failed", error={"code": "cancelled", "message": "x", "stage": "bie"}
    )
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job.job_id}", json=cancelled)
    response = alice_client.post(cancel_url(job))
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert ConversionJob.objects.get(pk=job.pk).error_code == "cancelled"
    # Now known to be supported: the page offers the button without asking again.
    other = make_job(alice)
    upstream.add(
        responses.GET, f"{CONVERTER}/api/v1/jobs/{other.job_id}", json=job_json(other.job_id)
    )
    assert 'id="cancel-button"' in alice_client.get(f"/convert/{other.job_id}/").content.decode()


def test_cancel_answers_501_and_the_button_is_absent_where_the_converter_cannot(
    alice_client, alice, upstream
):
    job = make_job(alice)
    not_implemented = {"error": {"code": "not_implemented", "message": "no", "request_id": "r"}}
    upstream.add(
        responses.DELETE, f"{CONVERTER}/api/v1/jobs/{job.job_id}", json=not_implemented, status=501
    )
    response = alice_client.post(cancel_url(job))
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "cancel_not_supported"
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job.job_id}", json=job_json(job.job_id))
    assert 'id="cancel-button"' not in alice_client.get(f"/convert/{job.job_id}/").content.decode()


def test_the_page_probes_cancel_support_once_for_everyone(
    alice_client, bob_client, alice, bob, upstream
):
    jobs = [make_job(alice), make_job(bob)]
    for job in jobs:
        upstream.add(
            responses.GET, f"{CONVERTER}/api/v1/jobs/{job.job_id}", json=job_json(job.job_id)
        )
    # A DELETE of a job that does not exist: 404 means the converter cancels jobs.
    missing = {"error": {"code": "job_not_found", "message": "no", "request_id": "r"}}
    upstream.add(
        responses.DELETE,
        re.compile(rf"{CONVERTER}/api/v1/jobs/[0-9a-f-]+"),
        json=missing,
        status=404,
    )
    for client, job in ((alice_client, jobs[0]), (bob_client, jobs[1]), (alice_client, jobs[0])):
        assert 'id="cancel-button"' in client.get(f"/convert/{job.job_id}/").content.decode()
    assert len([c for c in upstream.calls if c.request.method == "DELETE"]) == 1


def test_cancel_refuses_a_finished_job_another_users_and_anonymous(
    alice_client, bob_client, alice, upstream
):
    finished = make_job(alice, status="completed")
    assert alice_client.post(cancel_url(finished)).json()["error"]["code"] == "job_not_cancellable"
    running = make_job(alice)
    assert bob_client.post(cancel_url(running)).json()["error"]["code"] == "job_not_found"
    assert Client().post(cancel_url(running)).status_code == 401
    assert not [c for c in upstream.calls if c.request.method == "DELETE"]
