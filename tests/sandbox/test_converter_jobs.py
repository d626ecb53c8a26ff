"""The sandbox converter's jobs: the simulated pipeline, failures, listing, reading."""

from __future__ import annotations

import pytest

from .conftest import CONVERTER, bearer


@pytest.fixture
def slow_stages(settings):
    settings.SANDBOX_STAGE_SECONDS = 4


def get_job(client, token, job_id):
    return client.get(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token))


def test_a_job_walks_through_the_stages(client, token, create_job, fake_clock, slow_stages):
    job_id = create_job().json()["job_id"]
    seen = []
    for _ in range(15):
        job = get_job(client, token, job_id).json()
        seen.append((job["status"], job["stage"], job["progress"], job["stage_progress"]))
        fake_clock.advance(1)
    assert seen[0] == ("created", "onnx", 0, 0)
    assert seen[1] == ("running", "onnx", 0, 0)
    assert seen[3] == ("running", "onnx", 16, 50)
    assert seen[5] == ("running", "bie", 33, 0)
    assert seen[9] == ("running", "nef", 66, 0)
    assert seen[-1] == ("completed", None, 100, 100)
    progress = [entry[2] for entry in seen]
    assert progress == sorted(progress)


def test_a_completed_job_has_the_contract_shape(client, token, create_job, fake_clock):
    created = create_job().json()
    fake_clock.advance(1)
    job = get_job(client, token, created["job_id"]).json()
    assert job["status"] == "completed"
    assert job["stage"] is None
    assert job["created_at"] == created["created_at"]
    assert job["updated_at"] == created["created_at"]  # finished at once: zero-second stages
    assert job["expires_at"] == "2025-06-22T15:06:40.000Z"
    assert "error" not in job


@pytest.mark.parametrize(
    ("stage", "code"),
    [("onnx", "onnx_invalid"), ("bie", "quantization_failed"), ("nef", "compile_failed")],
)
def test_a_file_name_asks_for_a_failure(client, token, create_job, fake_clock, stage, code):
    job_id = create_job(filename=f"yolo-FAIL-{stage}.onnx").json()["job_id"]
    job = get_job(client, token, job_id).json()
    assert job["status"] == "failed"
    assert job["stage"] == stage
    assert job["error"]["code"] == code
    assert job["error"]["stage"] == stage
    assert job["error"]["message"]


def test_a_failure_comes_when_its_stage_is_reached(
    client, token, create_job, fake_clock, slow_stages
):
    job_id = create_job(filename="yolo-fail-bie.onnx").json()["job_id"]
    fake_clock.advance(5)
    assert get_job(client, token, job_id).json()["status"] == "running"
    fake_clock.advance(2)
    job = get_job(client, token, job_id).json()
    assert (job["status"], job["stage"], job["progress"]) == ("failed", "bie", 50)
    fake_clock.advance(60)
    assert get_job(client, token, job_id).json() == job  # frozen once failed


def test_reading_a_job_gives_an_etag(client, token, create_job):
    job_id = create_job().json()["job_id"]
    first = get_job(client, token, job_id)
    assert first["ETag"].startswith('"')
    again = client.get(
        f"{CONVERTER}/api/v1/jobs/{job_id}", HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token)
    )
    assert again.status_code == 304


def test_reading_needs_the_read_scope(client, get_token, create_job):
    job_id = create_job().json()["job_id"]
    response = get_job(client, get_token("converter:job.write"), job_id)
    assert response.status_code == 403
    assert get_job(client, "", job_id).status_code == 401


@pytest.mark.parametrize("job_id", ["00000000-0000-0000-0000-000000000001", "not-a-uuid", ".."])
def test_an_unknown_job_is_404(client, token, job_id):
    response = get_job(client, token, job_id)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


def test_a_job_is_forgotten_after_seven_days(client, token, create_job, fake_clock, get_token):
    job_id = create_job().json()["job_id"]
    fake_clock.advance(7 * 24 * 3600)
    assert get_job(client, get_token(), job_id).status_code == 404


def test_it_lists_a_users_unfinished_jobs(client, token, create_job, fake_clock, slow_stages):
    done = create_job(user_id="alice").json()["job_id"]
    fake_clock.advance(60)
    running = create_job(user_id="alice").json()["job_id"]
    create_job(user_id="bob")
    listed = client.get(
        f"{CONVERTER}/api/v1/jobs", {"user_id": "alice", "status": "in_progress"}, **bearer(token)
    ).json()
    assert listed["total"] == 1
    assert listed["next_cursor"] is None
    assert [job["job_id"] for job in listed["jobs"]] == [running]
    every = client.get(f"{CONVERTER}/api/v1/jobs", {"user_id": "alice"}, **bearer(token)).json()
    assert [job["job_id"] for job in every["jobs"]] == [running, done]


def test_listing_needs_a_user_and_a_known_status(client, token):
    response = client.get(f"{CONVERTER}/api/v1/jobs", {"status": "paused"}, **bearer(token))
    assert response.status_code == 400
    fields = [problem["field"] for problem in response.json()["error"]["details"]["fields"]]
    assert fields == ["user_id", "status"]


def test_cancelling_is_not_implemented_where_switched_off(client, token, create_job, settings):
    settings.SANDBOX_CANCEL_SUPPORTED = False
    job_id = create_job().json()["job_id"]
    response = client.delete(f"{CONVERTER}/api/v1/jobs/{job_id}", **bearer(token))
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "not_implemented"
    assert client.delete(f"{CONVERTER}/api/v1/jobs/{job_id}").status_code == 401


def test_health_is_public(client):
    response = client.get(f"{CONVERTER}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}
