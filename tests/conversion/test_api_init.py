"""POST /api/conversion/init: the streaming proxy and the trust boundary."""

from __future__ import annotations

import hashlib
import json

import pytest
import responses

from conversion.models import ConversionJob
from tests.conversion.upstreams import (
    BOUNDARY,
    CONVERTER,
    job_json,
    multipart_body,
    parse_upstream_form,
    standard_parts,
)

pytestmark = pytest.mark.django_db
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def post_upload(client, body: bytes, **extra):
    return client.generic("POST", "/api/conversion/init", body, content_type=CONTENT_TYPE, **extra)


def test_it_streams_the_form_with_the_session_users_id(alice_client, alice, converter_accepts):
    parts = standard_parts()
    response = post_upload(alice_client, multipart_body(parts))
    assert response.status_code == 201, response.content
    (form,) = converter_accepts
    assert form[0] == ("user_id", None, alice.upstream_id.encode())
    assert [(n, f, hashlib.sha256(b).hexdigest()) for n, f, b in form[1:]] == [
        (n, f, hashlib.sha256(b).hexdigest()) for n, f, b in parts
    ]
    job = ConversionJob.objects.get(job_id=response.json()["job_id"])
    assert (job.owner, job.chip, job.filename) == (alice, "KL720", "yolo.onnx")
    assert (job.model_id, job.version) == (32769, "0001")


@pytest.mark.parametrize(
    "forged",
    [
        [("user_id", None, b"victim")],
        [("user_id", "x.txt", b"victim")],
        [("user_id", None, b"victim"), ("user_id", None, b"victim2")],
    ],
)
def test_a_forged_user_id_never_reaches_the_converter(
    alice_client, alice, converter_accepts, forged
):
    body = multipart_body(forged + standard_parts() + forged)
    response = post_upload(alice_client, body, QUERY_STRING="user_id=victim")
    assert response.status_code == 201
    user_ids = [content for name, _, content in converter_accepts[0] if name == "user_id"]
    assert user_ids == [alice.upstream_id.encode()]


def test_it_needs_the_csrf_header(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post_upload(client, multipart_body(standard_parts()))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_it_refuses_an_upload_over_the_limit_before_reading(alice_client, upstream, settings):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 1000
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not any("/api/v1/jobs" in call.request.url for call in upstream.calls)


def test_it_needs_a_length(alice_client, upstream):
    response = alice_client.generic(
        "POST", "/api/conversion/init", b"", content_type=CONTENT_TYPE, CONTENT_LENGTH=""
    )
    assert response.status_code == 411
    assert response.json()["error"]["code"] == "length_required"


def test_a_malformed_form_is_a_400(alice_client, converter_accepts):
    response = post_upload(alice_client, b"this is not multipart at all" * 10)
    assert response.status_code == 400
    assert ConversionJob.objects.count() == 0


def test_an_unfinished_job_answers_409_without_uploading(alice_client, alice, upstream):
    running = job_json(status="running")
    ConversionJob.objects.create(
        job_id=running["job_id"],
        owner=alice,
        chip="KL720",
        status="running",
        created_at=running["created_at"],
        expires_at=running["expires_at"],
    )
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{running['job_id']}", json=running)
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "active_job_exists"
    assert error["details"]["active_job"]["job_id"] == running["job_id"]
    assert not any(
        call.request.method == "POST" and call.request.url.endswith("/jobs")
        for call in upstream.calls
    )


def test_a_409_from_the_converter_records_the_reported_job(alice_client, alice, upstream):
    active = job_json(status="running")
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})

    def conflict(request):
        parse_upstream_form(request)
        details = {
            "active_job_id": active["job_id"],
            "active_job_status": "running",
            "active_job_stage": "bie",
            "active_job_progress": 40,
            "active_job_created_at": active["created_at"],
        }
        body = {"error": {"code": "user_has_active_job", "message": "busy", "details": details}}
        return 409, {}, json.dumps(body)

    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=conflict)
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs/{active['job_id']}", json=active)
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 409
    assert response.json()["error"]["details"]["active_job"]["job_id"] == active["job_id"]
    assert ConversionJob.objects.get(job_id=active["job_id"]).owner == alice


def test_the_converter_being_busy_is_a_503_with_retry_after(alice_client, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})

    def busy(request):
        parse_upstream_form(request)
        body = {"error": {"code": "service_busy", "message": "later", "details": {}}}
        return 503, {"Retry-After": "7"}, json.dumps(body)

    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=busy)
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_busy"
    assert response["Retry-After"] == "7"
    posts = [c for c in upstream.calls if c.request.method == "POST" and "/jobs" in c.request.url]
    assert len(posts) == 1  # an upload is never retried


def test_it_is_disabled_without_upstream_urls(alice_client, settings):
    settings.CONVERTER_BASE_URL = ""
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "conversion_disabled"


def test_an_account_id_the_converter_cannot_take_is_refused_clearly(make_user, upstream):
    from django.test import Client

    user = make_user("pipe", oidc_sub="auth0|12345")
    client = Client()
    client.force_login(user)
    response = post_upload(client, multipart_body(standard_parts()))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "account_not_usable"
    assert not any("/api/v1/jobs" in call.request.url for call in upstream.calls)


def test_a_new_job_with_another_users_id_is_never_handed_over(alice_client, bob, upstream):
    taken = job_json(status="running")
    ConversionJob.objects.create(
        job_id=taken["job_id"],
        owner=bob,
        chip="KL720",
        filename="bobs.onnx",
        status="running",
        created_at=taken["created_at"],
        expires_at=taken["expires_at"],
    )
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})

    def create(request):
        parse_upstream_form(request)
        return 201, {}, json.dumps({**taken, "status": "created", "stage": None})

    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "converter_unavailable"
    assert taken["job_id"] not in response.content.decode()
    job = ConversionJob.objects.get(job_id=taken["job_id"])
    assert (job.owner, job.status, job.filename) == (bob, "running", "bobs.onnx")


def test_an_upload_refused_for_its_token_asks_to_upload_again(alice_client, upstream):
    # Keys rotated: the cached token is refused. The stream cannot be replayed,
    # but the token is dropped, so the next upload goes through.
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    answers = iter([401, 201])

    def create(request):
        parse_upstream_form(request)
        status = next(answers)
        if status == 401:
            body = {"error": {"code": "invalid_token", "message": "m", "details": {}}}
            return 401, {}, json.dumps(body)
        return 201, {}, json.dumps(job_json(status="created", stage=None))

    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    first = post_upload(alice_client, multipart_body(standard_parts()))
    assert first.status_code == 503
    error = first.json()["error"]
    assert error["code"] == "upload_not_accepted"
    assert "again" in error["message"]
    second = post_upload(alice_client, multipart_body(standard_parts()))
    assert second.status_code == 201, second.content
    fetches = [c for c in upstream.calls if c.request.url.endswith("/oauth/token")]
    assert sum("job.write" in c.request.body for c in fetches) == 2  # the refused one, a new one
