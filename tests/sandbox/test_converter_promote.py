"""The sandbox converter's promote: a finished job's artifact into the FAA store."""

from __future__ import annotations

import hashlib

import pytest

from sandbox import nef, store

from .conftest import CONVERTER, FAA, bearer

KEY = "tenants/t1/users/alice/models/job/yolo.nef"


def promote(client, token, job_id, *, user_id="alice", source="nef", key=KEY):
    body = {"targets": [{"source": source, "target_object_key": key}], "user_id": user_id}
    return client.post(
        f"{CONVERTER}/api/v1/jobs/{job_id}/promote",
        body,
        content_type="application/json",
        **bearer(token),
    )


@pytest.fixture
def model() -> bytes:
    return b"the onnx model" * 50


@pytest.fixture
def job_id(create_job, model) -> str:
    return create_job(user_id="alice", model=model).json()["job_id"]


def test_it_promotes_the_nef_into_the_file_store(client, token, job_id, model):
    response = promote(client, token, job_id)
    assert response.status_code == 200
    [promoted] = response.json()["promoted"]
    stored = store.get_object(KEY)
    assert promoted == {
        "target_object_key": KEY,
        "size_bytes": stored.size_bytes,
        "file_access_agent_etag": stored.etag,
    }
    download = client.get(f"{FAA}/files/{KEY}", **bearer(token))
    assert download["ETag"] == stored.etag
    header = nef.parse(b"".join(download.streaming_content))
    assert header["job_id"] == job_id
    assert header["platform"] == "720"
    assert header["source_model_sha256"] == hashlib.sha256(model).hexdigest()
    assert "not a real NEF" in header["note"]


def test_promoting_twice_gives_the_same_file(client, token, job_id):
    first = promote(client, token, job_id).json()
    assert promote(client, token, job_id).json() == first


def test_it_promotes_the_onnx_as_uploaded(client, token, job_id, model):
    promote(client, token, job_id, source="onnx", key="k/model.onnx")
    assert store.get_object("k/model.onnx").path.read_bytes() == model


def test_another_users_job_is_not_found(client, token, job_id):
    response = promote(client, token, job_id, user_id="bob")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"
    assert store.get_object(KEY) is None


def test_an_unfinished_job_cannot_be_promoted(client, token, create_job, settings):
    settings.SANDBOX_STAGE_SECONDS = 60
    job_id = create_job(user_id="alice").json()["job_id"]
    response = promote(client, token, job_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_not_ready_for_promote"


def test_a_failed_job_cannot_be_promoted(client, token, create_job):
    job_id = create_job(user_id="alice", filename="m-fail-nef.onnx").json()["job_id"]
    assert promote(client, token, job_id).status_code == 409


@pytest.mark.parametrize("key", ["/abs/yolo.nef", "a/../b.nef", "a//b.nef", "", "a\\b"])
def test_it_refuses_a_bad_object_key(client, token, job_id, key):
    response = promote(client, token, job_id, key=key)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_object_key"


def test_it_refuses_an_unknown_source(client, token, job_id):
    response = promote(client, token, job_id, source="tflite")
    assert response.status_code == 400
    fields = response.json()["error"]["details"]["fields"]
    assert fields[0]["field"] == "targets[0].source"


def test_promoting_needs_the_write_scope(client, get_token, job_id):
    assert promote(client, get_token("converter:job.read"), job_id).status_code == 403
