"""The sandbox converter's job creation: auth, validation, limits, one job per user."""

from __future__ import annotations

import hashlib

import pytest

from sandbox import store

from .conftest import CONVERTER, job_parts


def test_it_creates_a_job(create_job, fake_clock):
    response = create_job()
    assert response.status_code == 201
    job = response.json()
    assert set(job) == {
        "job_id",
        "status",
        "stage",
        "progress",
        "stage_progress",
        "created_at",
        "updated_at",
        "expires_at",
        "input",
        "parameters",
        "stage_timings",  # stages take no time in these tests: completed at once
    }
    assert job["input"] == {"filename": "yolo.onnx"}
    assert job["parameters"] == {"platform": "720", "model_id": 32769, "version": "0001"}


def test_it_records_what_it_received(client, create_job):
    model = b"a real model" * 100
    job_id = create_job(model=model, user_id="alice.01").json()["job_id"]
    seen = client.get(f"{CONVERTER}/_inspect/jobs/{job_id}").json()
    assert seen["user_id"] == "alice.01"
    parts = seen["received"]["parts"]
    assert [part["name"] for part in parts] == [
        "user_id",
        "platform",
        "model_id",
        "version",
        "model",
        "ref_images",
        "ref_images",
    ]
    assert parts[0] == {"name": "user_id", "value": "alice.01"}
    assert parts[4]["sha256"] == hashlib.sha256(model).hexdigest()
    assert parts[4]["size_bytes"] == len(model)
    assert parts[5]["sha256"] == hashlib.sha256(b"\xff\xd8\xff" + bytes([0]) * 100).hexdigest()


def test_it_needs_a_token_with_the_write_scope(create_job, get_token):
    assert create_job(auth="forged").status_code == 401
    response = create_job(auth=get_token("converter:job.read"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_an_expired_token_says_so(fake_clock, create_job, token):
    fake_clock.advance(3601)
    response = create_job(auth=token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"user_id": ""}, "user_id"),
        ({"user_id": "alice smith"}, "user_id"),
        ({"user_id": "a" * 129}, "user_id"),
        ({"user_id": "alice\n"}, "user_id"),
        ({"platform": "999"}, "platform"),
        ({"filename": "yolo.pt"}, "model"),
        ({"model": b""}, "model"),
    ],
)
def test_it_validates_the_form(create_job, fields, field):
    response = create_job(**fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["request_id"]
    assert [problem["field"] for problem in error["details"]["fields"]] == [field]


def test_it_wants_the_user_id_once(create_job):
    parts = [*job_parts(user_id="alice"), ("user_id", None, b"mallory")]
    response = create_job(parts)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "user_id"


def test_it_needs_a_model_file(create_job):
    parts = [part for part in job_parts() if part[0] != "model"]
    response = create_job(parts)
    assert response.json()["error"]["details"]["fields"] == [
        {"field": "model", "message": "A model file is required."}
    ]


def test_it_refuses_a_model_over_the_limit(create_job, settings):
    settings.SANDBOX_MAX_MODEL_BYTES = 1000
    response = create_job(model=b"x" * 1001)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large"
    assert error["details"]["field"] == "model"


def test_it_refuses_an_image_over_the_limit(create_job, settings):
    settings.SANDBOX_MAX_IMAGE_BYTES = 99
    response = create_job()
    assert response.status_code == 413
    assert response.json()["error"]["details"]["field"] == "ref_images"


def test_it_refuses_too_many_images(create_job, settings):
    settings.SANDBOX_MAX_IMAGES = 3
    assert create_job(images=3).status_code == 201
    response = create_job(images=4, user_id="someone-else")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "ref_images"


def test_it_refuses_a_broken_multipart_body(client, token):
    response = client.post(
        f"{CONVERTER}/api/v1/jobs",
        b"--nope\r\nnot really multipart",
        content_type="multipart/form-data; boundary=nope",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_multipart"


def test_it_refuses_a_body_that_is_not_multipart(client, token):
    response = client.post(
        f"{CONVERTER}/api/v1/jobs",
        {"user_id": "u"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json()["error"]["code"] == "invalid_multipart"


def test_one_unfinished_job_per_user(create_job, settings, fake_clock):
    settings.SANDBOX_STAGE_SECONDS = 10
    first = create_job(user_id="alice").json()
    fake_clock.advance(12)
    response = create_job(user_id="alice")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "user_has_active_job"
    assert error["details"] == {
        "active_job_id": first["job_id"],
        "active_job_status": "running",
        "active_job_stage": "onnx",
        "active_job_progress": 31,
        "active_job_created_at": first["created_at"],
    }
    assert create_job(user_id="bob").status_code == 201
    fake_clock.advance(60)  # alice's job has completed
    assert create_job(user_id="alice").status_code == 201


def test_a_failed_job_does_not_block_the_next(create_job):
    assert create_job(filename="yolo-fail-onnx.onnx").status_code == 201
    assert create_job().status_code == 201


def test_it_is_busy_when_every_upload_slot_is_taken(create_job, settings):
    settings.SANDBOX_MAX_CONCURRENT_UPLOADS = 1
    with store.upload_slot(1) as got_slot:
        assert got_slot
        response = create_job()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_busy"
    assert create_job().status_code == 201


def test_no_upload_slots_means_always_busy(create_job, settings):
    settings.SANDBOX_MAX_CONCURRENT_UPLOADS = 0
    assert create_job().status_code == 503
