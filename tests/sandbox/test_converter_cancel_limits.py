"""The stand-in's cancel (DELETE), stage timings, queue position, list pages and rate limit."""

from __future__ import annotations

import pytest

from sandbox import rate_limit
from tests.sandbox.conftest import CONVERTER, bearer


@pytest.fixture(autouse=True)
def _fresh_limiter():
    rate_limit.reset()
    yield
    rate_limit.reset()


def test_a_running_job_is_cancelled_and_then_failed_with_code_cancelled(
    client, token, create_job, settings, fake_clock
):
    settings.SANDBOX_STAGE_SECONDS = 100
    job_id = create_job().json()["job_id"]
    fake_clock.advance(60)
    response = client.delete(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token))
    assert response.status_code == 200
    job = client.get(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token)).json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "cancelled"
    assert set(job["stage_timings"]) == {"onnx"}
    again = client.delete(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token))
    assert again.status_code == 409


def test_a_queued_job_has_a_queue_position_and_a_finished_one_its_timings(
    client, token, create_job, settings, fake_clock
):
    settings.SANDBOX_STAGE_SECONDS = 8
    job_id = create_job().json()["job_id"]
    queued = client.get(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token)).json()
    assert queued["status"] == "created" and queued["queue_position"] >= 1
    fake_clock.advance(60)
    done = client.get(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token)).json()
    assert done["status"] == "completed"
    assert done["stage_timings"] == {"onnx": 8.0, "bie": 8.0, "nef": 8.0}
    assert "queue_position" not in done


def test_the_in_progress_list_comes_in_pages(client, token, create_job, settings, monkeypatch):
    settings.SANDBOX_STAGE_SECONDS = 100
    monkeypatch.setattr("sandbox.converter_views.LIST_PAGE_SIZE", 1)
    for user in ("pages.a", "pages.b"):
        create_job(user_id=user)
    url = f"{CONVERTER}/api/v1/jobs"
    first = client.get(url, {"user_id": "pages.a", "status": "in_progress"}, **bearer(token))
    assert first.json()["next_cursor"] is None  # one job: one page
    monkeypatch.setattr("sandbox.store.all_jobs", lambda: _two_jobs_of("pages.a", settings))
    page = client.get(url, {"user_id": "pages.a", "status": "in_progress"}, **bearer(token))
    assert len(page.json()["jobs"]) == 1 and page.json()["next_cursor"] == "1"
    rest = client.get(
        url, {"user_id": "pages.a", "status": "in_progress", "cursor": "1"}, **bearer(token)
    )
    assert len(rest.json()["jobs"]) == 1 and rest.json()["next_cursor"] is None


def _two_jobs_of(user_id, settings):
    from sandbox import clock

    for index in range(2):
        yield {
            "job_id": f"00000000-0000-4000-8000-00000000000{index}",
            "user_id": user_id,
            "platform": "720",
            "model_id": None,
            "version": None,
            "created": clock.now() - index,
            "stage_seconds": 100.0,
            "fail_stage": None,
            "filename": "m.onnx",
        }


def test_the_rate_limit_answers_429_with_retry_after_and_headers_on_every_answer(
    client, token, create_job, settings
):
    settings.SANDBOX_RATE_LIMIT = 3
    job_id = create_job().json()["job_id"]
    answers = [client.get(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[0]["RateLimit-Limit"] == "3"
    assert answers[2].json()["error"]["code"] == "rate_limit_exceeded"
    assert int(answers[2]["Retry-After"]) >= 1
