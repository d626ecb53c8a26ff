"""Saving a finished job into My models (idempotent) and downloading its NEF."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.db import connection
from django.test import Client

from conversion.models import ConversionJob
from models_repo.choices import ModelSource
from models_repo.models import NefModel
from models_repo.services import model_create_from_stream, model_delete
from tests.conversion.upstreams import (
    CONVERTER,
    FAA,
    MC,
    job_json,
)

pytestmark = pytest.mark.django_db
NEF = b"NEF-sandbox" + bytes(range(256)) * 4000


def completed_job(user, status="completed") -> dict:
    job = job_json(status=status)
    ConversionJob.objects.create(
        job_id=job["job_id"],
        owner=user,
        chip="KL720",
        filename="yolo.onnx",
        status=status,
        created_at=job["created_at"],
        expires_at=job["expires_at"],
    )
    return job


@pytest.fixture
def faa_serves_promoted(upstream):
    promoted = {}

    def promote(request):
        body = json.loads(request.body)
        promoted["key"] = body["targets"][0]["target_object_key"]
        promoted["body"] = body
        answer = {
            "promoted": [
                {
                    "target_object_key": promoted["key"],
                    "size_bytes": len(NEF),
                    "file_access_agent_etag": "etag-1",
                }
            ]
        }
        return 200, {}, json.dumps(answer)

    def faa_get(request):
        assert request.headers["Authorization"] == "Bearer svc-token"
        return 200, {"Content-Length": str(len(NEF))}, NEF

    upstream.add_callback(
        responses.POST, re.compile(rf"{CONVERTER}/api/v1/jobs/.+/promote"), callback=promote
    )
    upstream.add_callback(responses.GET, re.compile(rf"{FAA}/files/.+"), callback=faa_get)
    return promoted


def test_promote_stores_the_nef_and_creates_the_model(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 200, response.content
    model = NefModel.objects.get()
    assert response.json()["model"]["id"] == model.pk
    assert (model.owner, model.name, model.chips, model.source) == (
        alice,
        "yolo",
        ["KL720"],
        "converted",
    )
    # Its chip is the one its conversion compiled it for, not a user's word.
    assert model.chip_source == "conversion"
    assert response.json()["model"]["chip_source"] == "conversion"
    assert model.size_bytes == len(NEF)
    assert model.sha256 == hashlib.sha256(NEF).hexdigest()
    assert model.file.read() == NEF
    assert (model.source_reference, model.source_label) == (job["job_id"], "yolo.onnx")
    assert ConversionJob.objects.get(job_id=job["job_id"]).saved_model == model
    assert faa_serves_promoted["body"]["user_id"] == alice.upstream_id
    assert faa_serves_promoted["body"]["targets"][0]["source"] == "nef"
    key = faa_serves_promoted["key"]
    assert model.faa_object_key == key
    assert "tenant-1" in key and alice.upstream_id in key and job["job_id"] in key


def test_promote_again_returns_the_same_model(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    first = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models").json()
    second = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models").json()
    assert first["model"]["id"] == second["model"]["id"]
    assert NefModel.objects.count() == 1


def test_promote_takes_a_name(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    response = alice_client.post(url, {"name": "Door camera v2"}, content_type="application/json")
    assert response.json()["model"]["name"] == "Door camera v2"


def test_promote_before_completion_is_a_409(alice_client, alice, upstream):
    job = completed_job(alice, status="running")
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_not_completed"
    assert NefModel.objects.count() == 0


def test_a_failing_faa_pull_leaves_nothing(alice_client, alice, upstream):
    job = completed_job(alice)
    answer = {"promoted": [{"target_object_key": "k", "size_bytes": 1}]}
    upstream.add(responses.POST, re.compile(rf"{CONVERTER}/.+/promote"), json=answer)
    upstream.add(responses.GET, re.compile(rf"{FAA}/files/.+"), status=503)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "faa_unavailable"
    assert NefModel.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_promotes_create_one_model(alice, faa_serves_promoted):
    job = completed_job(alice)
    ids, start = [], threading.Barrier(6)

    def promote():
        client = Client()
        client.force_login(alice)
        start.wait()
        try:
            response = client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
            ids.append(response.json()["model"]["id"])
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=promote) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 6 and len(set(ids)) == 1
    assert NefModel.objects.count() == 1


def test_download_redirects_to_faa_with_a_delegated_token(alice_client, alice, upstream):
    job = completed_job(alice)
    answer = {"promoted": [{"target_object_key": "k", "size_bytes": 1}]}
    upstream.add(responses.POST, re.compile(rf"{CONVERTER}/.+/promote"), json=answer)
    upstream.add(
        responses.POST,
        f"{MC}/file-access/download-tokens",
        json={"token": "delegated-secret", "expires_at": "2030-01-01T00:00:00Z"},
    )
    response = alice_client.get(f"/api/conversion/{job['job_id']}/download")
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == FAA
    # Named after the uploaded yolo.onnx: the browser saves yolo.nef, not model.nef.
    assert location.path.startswith("/files/") and location.path.endswith("/yolo.nef")
    assert parse_qs(location.query)["access_token"] == ["delegated-secret"]
    assert b"delegated-secret" not in response.content
    token_request = next(c for c in upstream.calls if "download-tokens" in c.request.url)
    asked = json.loads(token_request.request.body)
    assert asked["user_id"] == alice.upstream_id
    assert asked["tenant_id"] == "tenant-1"
    assert asked["method"] == "GET"
    assert ConversionJob.objects.get(job_id=job["job_id"]).faa_object_key


def test_download_before_completion_is_a_409(alice_client, alice, upstream):
    job = completed_job(alice, status="running")
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{job['job_id']}", json=job)
    response = alice_client.get(f"/api/conversion/{job['job_id']}/download")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_not_completed"


def test_saving_a_deleted_model_again_brings_it_back(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    first = alice_client.post(url).json()["model"]
    model_delete(model=NefModel.objects.get(pk=first["id"]))
    # Meanwhile another model took the name: the revived one must not clash.
    model_create_from_stream(
        owner=alice,
        name=first["name"],
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="yolo.nef",
        chunks=[b"another NEF"],
    )
    again = alice_client.post(url).json()["model"]
    assert again["id"] == first["id"]
    revived = NefModel.objects.get(pk=first["id"])
    assert revived.deleted_at is None
    assert revived.name == "yolo (2)"
    assert NefModel.objects.live().filter(owner=alice).count() == 2


@pytest.mark.parametrize(
    ("new_name", "expected"),
    [("detector v2", "detector v2"), ("  ", "yolo"), (None, "yolo"), ("yolo", "yolo")],
)
def test_saving_a_deleted_model_again_takes_the_new_name(
    alice_client, alice, faa_serves_promoted, new_name, expected
):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    first = alice_client.post(url).json()["model"]
    model_delete(model=NefModel.objects.get(pk=first["id"]))
    body = {} if new_name is None else {"name": new_name}
    again = alice_client.post(url, body, content_type="application/json")
    assert again.status_code in (200, 201), again.content[:300]
    assert again.json()["model"]["id"] == first["id"]
    assert NefModel.objects.get(pk=first["id"]).name == expected


def test_saving_a_live_model_again_renames_nothing(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    first = alice_client.post(url).json()["model"]
    again = alice_client.post(url, {"name": "other"}, content_type="application/json")
    assert again.json()["model"] == first


def test_a_new_name_taken_meanwhile_is_numbered(alice_client, alice, faa_serves_promoted):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    first = alice_client.post(url).json()["model"]
    model_delete(model=NefModel.objects.get(pk=first["id"]))
    model_create_from_stream(
        owner=alice,
        name="taken",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="t.nef",
        chunks=[b"another NEF"],
    )
    again = alice_client.post(url, {"name": "taken"}, content_type="application/json")
    assert again.json()["model"]["name"] == "taken (2)"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_converter_that_cannot_reach_member_center_is_idp_unavailable(
    alice_client, alice, upstream, status
):
    job = completed_job(alice)
    down = {"error": {"code": "auth_service_unavailable", "message": "m", "details": {}}}
    upstream.add(responses.POST, re.compile(rf"{CONVERTER}/.+/promote"), status=status, json=down)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "idp_unavailable"
    assert NefModel.objects.count() == 0


@pytest.mark.parametrize("lifetime", [0, -5])
def test_a_member_center_token_already_expired_is_idp_unavailable(
    alice_client, alice, upstream_settings, lifetime
):
    job = completed_job(alice)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{MC}/oauth/token",
            json={"access_token": "t", "token_type": "Bearer", "expires_in": lifetime},
        )
        response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "idp_unavailable"


def test_saving_bytes_the_user_already_has_points_to_that_model(
    alice_client, alice, faa_serves_promoted, models_folder
):
    uploaded = model_create_from_stream(
        owner=alice,
        name="my copy",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="copy.nef",
        chunks=[NEF],
    )
    job = completed_job(alice)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "model_already_stored"
    assert "as “my copy”" in error["message"]
    assert error["details"]["model_id"] == uploaded.pk
    assert error["details"]["model_url"] == f"/models/{uploaded.pk}/"
    assert "fields" not in error["details"]  # no form field brought these bytes
    # Not stored twice: one model, one file, and the job is not linked to anything.
    assert list(NefModel.objects.values_list("pk", flat=True)) == [uploaded.pk]
    assert len([path for path in models_folder.rglob("*") if path.is_file()]) == 1
    assert ConversionJob.objects.get(job_id=job["job_id"]).saved_model is None


def test_the_refusal_is_in_chinese_too(alice_client, alice, faa_serves_promoted):
    model_create_from_stream(
        owner=alice,
        name="mine",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="copy.nef",
        chunks=[NEF],
    )
    job = completed_job(alice)
    response = alice_client.post(
        f"/api/conversion/{job['job_id']}/promote-to-models", HTTP_ACCEPT_LANGUAGE="zh-hant"
    )
    assert response.json()["error"]["message"].startswith("「我的模型」裡已經有這個檔案")


def test_a_deleted_copy_does_not_stop_the_save(alice_client, alice, faa_serves_promoted):
    copy = model_create_from_stream(
        owner=alice,
        name="old copy",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="copy.nef",
        chunks=[NEF],
    )
    model_delete(model=copy)
    job = completed_job(alice)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 200
    assert response.json()["model"]["id"] != copy.pk
