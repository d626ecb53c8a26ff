"""Converter client: calls, retry matrix, and the mapping of every answer."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import pytest
import requests
import responses
from responses import matchers

from conversion.clients import converter, errors
from tests.conversion.upstreams import CONVERTER, MC, job_json

JOB = str(uuid.uuid4())
JOB_URL = f"{CONVERTER}/api/v1/jobs/{JOB}"
JOBS_URL = f"{CONVERTER}/api/v1/jobs"


def envelope(code, status=400, **details):
    return {"error": {"code": code, "message": "upstream text", "details": details}}


def test_get_job_sends_a_read_token_and_parses_the_job(upstream):
    upstream.get(
        JOB_URL,
        json=job_json(JOB, status="running", stage="bie", progress=55, stage_progress=20),
        match=[matchers.header_matcher({"Authorization": "Bearer svc-token"})],
    )
    job = converter.get_job(JOB).snapshot
    assert (job.job_id, job.status, job.stage, job.progress, job.stage_progress) == (
        JOB,
        "running",
        "bie",
        55,
        20,
    )
    assert job.filename == "yolo.onnx"
    assert job.platform == "720"
    read_scope = upstream.calls[0].request.body
    assert "converter%3Ajob.read" in read_scope


def test_missing_fields_get_the_contracts_defaults(upstream):
    body = job_json(JOB, status="completed")
    for key in ("progress", "stage_progress", "expires_at", "stage"):
        body.pop(key, None)
    upstream.get(JOB_URL, json=body)
    job = converter.get_job(JOB).snapshot
    assert job.stage is None
    assert job.progress == 100
    assert (job.expires_at - job.created_at).days == 7


def test_a_failed_job_carries_the_converters_error(upstream):
    upstream.get(
        JOB_URL,
        json=job_json(
            JOB,
            status="failed",
            error={"code": "quantization_failed", "message": "m", "stage": "bie"},
        ),
    )
    job = converter.get_job(JOB).snapshot
    assert (job.error_code, job.error_message, job.error_stage) == (
        "quantization_failed",
        "m",
        "bie",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b"[]",
        b'{"job_id": "not-a-uuid", "status": "running"}',
        b'{"status": "running"}',
        b'{"job_id": "%s", "status": "exploded"}' % JOB.encode(),
    ],
    # Ids without the random job id: every process collects the same names (pytest-xdist).
    ids=["html", "list", "bad-job-id", "no-job-id", "unknown-status"],
)
def test_a_malformed_answer_is_converter_unavailable(upstream, body):
    upstream.get(JOB_URL, body=body, status=200)
    with pytest.raises(errors.ConverterUnavailable):
        converter.get_job(JOB)


def test_get_job_retries_twice_on_5xx_then_gives_up(upstream):
    calls = upstream.get(JOB_URL, status=502, body=b"oops")
    with pytest.raises(errors.ConverterUnavailable):
        converter.get_job(JOB)
    assert calls.call_count == 3


def test_get_job_retries_network_errors_and_recovers(upstream):
    upstream.get(JOB_URL, body=requests.ConnectionError("refused"))
    upstream.get(JOB_URL, json=job_json(JOB))
    assert converter.get_job(JOB).snapshot.job_id == JOB


def test_4xx_is_never_retried(upstream):
    calls = upstream.get(JOB_URL, status=404, json=envelope("job_not_found"))
    with pytest.raises(errors.JobNotFound):
        converter.get_job(JOB)
    assert calls.call_count == 1


def test_list_in_progress_asks_for_the_users_unfinished_jobs(upstream):
    upstream.get(
        JOBS_URL,
        json={"jobs": [job_json(JOB)], "total": 1, "next_cursor": None},
        match=[matchers.query_param_matcher({"user_id": "sub-1", "status": "in_progress"})],
    )
    assert [job.job_id for job in converter.list_in_progress(user_id="sub-1")] == [JOB]


def test_list_in_progress_retries_once(upstream):
    calls = upstream.get(JOBS_URL, status=500)
    with pytest.raises(errors.ConverterUnavailable):
        converter.list_in_progress(user_id="u")
    assert calls.call_count == 2


def test_create_job_is_never_retried(upstream):
    calls = upstream.post(JOBS_URL, status=503, json=envelope("internal_error"))
    with pytest.raises(errors.ConverterUnavailable):
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=b")
    assert calls.call_count == 1


def test_create_job_streams_the_body_with_a_write_token(upstream):
    upstream.post(
        JOBS_URL,
        status=201,
        json=job_json(JOB, status="created", stage=None),
        match=[matchers.header_matcher({"Authorization": "Bearer svc-token"})],
    )
    job = converter.create_job(
        body=iter([b"a", b"b"]), content_type="multipart/form-data; boundary=z"
    )
    assert job.status == "created"
    sent = upstream.calls[-1].request
    assert b"".join(sent.body) == b"ab"
    assert sent.headers["Content-Type"] == "multipart/form-data; boundary=z"


class _ChunkedSink(http.server.BaseHTTPRequestHandler):
    """A real HTTP upstream that records whether a chunked body arrived whole."""

    received: list = []

    def do_POST(self):
        complete, data = False, b""
        try:
            while True:
                size = int(self.rfile.readline().strip() or b"x", 16)
                if size == 0:
                    self.rfile.readline()
                    complete = True
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        except (ValueError, OSError):
            pass
        self.received.append((complete, data))
        if complete:
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            body = json.dumps(job_json(JOB)).encode()
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def real_converter(upstream_settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedSink)
    _ChunkedSink.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upstream_settings.CONVERTER_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(upstream_settings.CONVERTER_BASE_URL)
        mock.post(
            f"{upstream_settings.MC_SERVICE_ISSUER}/oauth/token",
            json={"access_token": "t", "expires_in": 60},
        )
        yield _ChunkedSink.received
    server.shutdown()
    server.server_close()


def test_a_broken_body_aborts_the_upload_and_reaches_the_caller(real_converter):
    class Broken(Exception):
        pass

    def body():
        yield b"first part of the form"
        raise Broken

    with pytest.raises(Broken):
        converter.create_job(body=body(), content_type="multipart/form-data; boundary=z")
    deadline = time.monotonic() + 60
    while not real_converter and time.monotonic() < deadline:
        time.sleep(0.01)
    # The converter never saw the chunked body's end: no truncated form passed as whole.
    assert real_converter == [(False, b"first part of the form")]


def test_a_whole_body_arrives_chunked(real_converter):
    job = converter.create_job(
        body=iter([b"a" * 10, b"b" * 5]), content_type="multipart/form-data; boundary=z"
    )
    assert job.job_id == JOB
    assert real_converter == [(True, b"a" * 10 + b"b" * 5)]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            envelope("validation_error", fields=[{"field": "platform", "message": "bad"}]),
            errors.InvalidRequest,
        ),
        (400, envelope("invalid_multipart"), errors.InvalidRequest),
        (422, envelope("invalid_object_key"), errors.InvalidRequest),
        (413, envelope("file_too_large"), errors.FileTooLarge),
        (409, envelope("user_has_active_job", active_job_id=JOB), errors.UserHasActiveJob),
        (503, envelope("service_busy"), errors.ConverterBusy),
        (429, envelope("rate_limit_exceeded"), errors.ConverterBusy),
        (401, envelope("invalid_token"), errors.UploadNotAccepted),
        (403, envelope("insufficient_scope"), errors.UploadNotAccepted),
        (503, envelope("auth_service_unavailable"), errors.TokenServiceUnavailable),
        (500, envelope("internal_error"), errors.ConverterUnavailable),
        (501, envelope("not_implemented"), errors.ConverterUnavailable),
        (502, b"<html>", errors.ConverterUnavailable),
    ],
)
def test_create_job_maps_every_status(upstream, status, body, error):
    kwargs = {"body": body} if isinstance(body, bytes) else {"json": body}
    upstream.post(JOBS_URL, status=status, **kwargs)
    with pytest.raises(error):
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=z")


def test_validation_details_name_the_fields(upstream):
    upstream.post(
        JOBS_URL,
        status=400,
        json=envelope("validation_error", fields=[{"field": "platform", "message": "unknown"}]),
    )
    with pytest.raises(errors.InvalidRequest) as caught:
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=z")
    assert caught.value.details == {"fields": [{"field": "platform", "message": "unknown"}]}


def test_active_job_details_are_passed_on(upstream):
    upstream.post(
        JOBS_URL,
        status=409,
        json=envelope(
            "user_has_active_job",
            active_job_id=JOB,
            active_job_status="running",
            active_job_stage="nef",
            active_job_progress=80,
            active_job_created_at="2026-11-24T10:00:00Z",
        ),
    )
    with pytest.raises(errors.UserHasActiveJob) as caught:
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=z")
    assert caught.value.details["active_job"] == {
        "job_id": JOB,
        "status": "running",
        "stage": "nef",
        "progress": 80,
        "created_at": "2026-11-24T10:00:00Z",
    }


def test_service_busy_passes_a_sane_retry_after(upstream):
    upstream.post(
        JOBS_URL, status=503, json=envelope("service_busy"), headers={"Retry-After": "12"}
    )
    with pytest.raises(errors.ConverterBusy) as caught:
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=z")
    assert caught.value.headers == {"Retry-After": "12"}


def token_fetches(upstream) -> int:
    return len([c for c in upstream.calls if c.request.url.endswith("/oauth/token")])


def test_a_refused_token_is_replaced_once_and_the_call_succeeds(upstream):
    upstream.get(JOB_URL, status=401, json=envelope("token_expired"))
    upstream.get(JOB_URL, json=job_json(JOB))
    assert converter.get_job(JOB).snapshot.job_id == JOB
    assert token_fetches(upstream) == 2  # the refused token was dropped, a new one used


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_read_token_is_replaced_too(upstream, status):
    upstream.get(JOB_URL, status=status, json=envelope("insufficient_scope"))
    upstream.get(JOB_URL, json=job_json(JOB))
    assert converter.get_job(JOB).snapshot.job_id == JOB
    assert token_fetches(upstream) == 2


@pytest.mark.parametrize("status", [401, 403])
def test_a_replaced_token_refused_too_means_our_credentials_are_wrong(upstream, status):
    calls = upstream.get(JOB_URL, status=status, json=envelope("invalid_token"))
    with pytest.raises(errors.CredentialsRefused):
        converter.get_job(JOB)
    assert (calls.call_count, token_fetches(upstream)) == (2, 2)


def test_promote_replaces_a_refused_token_too(upstream):
    url = f"{JOB_URL}/promote"
    upstream.post(url, status=401, json=envelope("token_expired"))
    upstream.post(url, json={"promoted": [{"target_object_key": "k", "size_bytes": 1}]})
    assert converter.promote(JOB, user_id="u", target_object_key="k")["size_bytes"] == 1


def test_promote_answered_auth_service_unavailable_is_idp_unavailable(upstream):
    upstream.post(f"{JOB_URL}/promote", status=503, json=envelope("auth_service_unavailable"))
    with pytest.raises(errors.TokenServiceUnavailable):
        converter.promote(JOB, user_id="u", target_object_key="k")


def create():
    return converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=z")


def test_a_refused_upload_is_not_replayed_but_the_next_one_gets_a_new_token(upstream):
    upstream.replace(
        responses.POST,
        f"{MC}/oauth/token",
        json={"access_token": "rotated-away", "expires_in": 3600},
    )
    refused = upstream.post(
        JOBS_URL,
        status=401,
        json=envelope("invalid_token"),
        match=[matchers.header_matcher({"Authorization": "Bearer rotated-away"})],
    )
    with pytest.raises(errors.UploadNotAccepted):
        create()
    assert refused.call_count == 1  # never replayed: the stream is gone
    upstream.replace(
        responses.POST, f"{MC}/oauth/token", json={"access_token": "new", "expires_in": 3600}
    )
    upstream.post(
        JOBS_URL,
        status=201,
        json=job_json(JOB, status="created", stage=None),
        match=[matchers.header_matcher({"Authorization": "Bearer new"})],
    )
    assert create().job_id == JOB
    assert token_fetches(upstream) == 2


def test_an_upload_refusing_the_replacement_token_is_idp_misconfigured(upstream):
    upstream.post(JOBS_URL, status=403, json=envelope("insufficient_scope"))
    with pytest.raises(errors.UploadNotAccepted):
        create()
    with pytest.raises(errors.CredentialsRefused):
        create()
    assert token_fetches(upstream) == 2


def test_promote_sends_the_target_and_user(upstream):
    upstream.post(
        f"{JOB_URL}/promote",
        json={
            "promoted": [{"target_object_key": "k", "size_bytes": 9, "file_access_agent_etag": "e"}]
        },
        match=[
            matchers.json_params_matcher(
                {"targets": [{"source": "nef", "target_object_key": "k"}], "user_id": "u"}
            )
        ],
    )
    assert converter.promote(JOB, user_id="u", target_object_key="k")["size_bytes"] == 9


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("job_not_ready_for_promote", errors.JobNotReady),
        ("source_not_available", errors.SourceNotAvailable),
    ],
)
def test_promote_conflicts(upstream, code, error):
    upstream.post(f"{JOB_URL}/promote", status=409, json=envelope(code))
    with pytest.raises(error):
        converter.promote(JOB, user_id="u", target_object_key="k")


def test_promote_retries_twice(upstream):
    calls = upstream.post(f"{JOB_URL}/promote", status=500)
    with pytest.raises(errors.ConverterUnavailable):
        converter.promote(JOB, user_id="u", target_object_key="k")
    assert calls.call_count == 3


def test_each_call_logs_one_line_without_secrets(upstream, caplog):
    upstream.get(JOB_URL, json=job_json(JOB))
    caplog.set_level("INFO", logger="visiona.upstream")
    converter.get_job(JOB)
    lines = [r for r in caplog.records if r.getMessage() == "upstream call"]
    converter_lines = [r for r in lines if r.upstream == "converter"]
    assert len(converter_lines) == 1
    line = converter_lines[0]
    assert (line.job_id, line.status, line.attempt) == (JOB, 200, 1)
    assert line.endpoint == "GET /api/v1/jobs/{job_id}"
    assert "svc-token" not in caplog.text


def test_an_answer_with_a_lone_surrogate_is_no_answer(upstream):
    from conversion.clients import http

    class Answer:
        content = b'{"job_id": "j", "error": {"message": "\\ud800"}}'

    assert http.json_or_none(Answer()) is None
    Answer.content = b'{"job_id": "j", "error": {"message": "ok \\u00e9"}}'
    assert http.json_or_none(Answer())["error"]["message"] == "ok \u00e9"
