"""Upstream faults over real HTTP, each answered with the spec's code."""

from __future__ import annotations

import socket

import pytest

from conversion.clients import member_center
from conversion.models import ConversionJob
from models_repo.models import NefModel
from sandbox import faults, tokens
from tests.e2e.conftest import standard_form
from tests.e2e.test_conversion_flow import wait_until_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe closes


def test_a_converter_that_is_down_is_converter_unavailable(alice_http, sandbox):
    sandbox.CONVERTER_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    for response in (
        alice_http.get("/api/conversion/active"),
        alice_http.upload(standard_form()),
    ):
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "converter_unavailable"
    assert ConversionJob.objects.count() == 0


def test_a_converter_500_on_poll_is_retried_and_the_poll_succeeds(alice_http, sandbox):
    sandbox.SANDBOX_STAGE_SECONDS = 60
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    faults.arm("converter.get_job", 500, times=1)
    response = alice_http.get(f"/api/conversion/{job_id}")
    assert response.status_code == 200
    assert response.json()["job_id"] == job_id
    assert faults.take("converter.get_job") is None  # the fault was met, then retried


def test_a_converter_failing_every_retry_is_converter_unavailable(alice_http, sandbox):
    sandbox.SANDBOX_STAGE_SECONDS = 60
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    faults.arm("converter.get_job", 500, times=3)
    response = alice_http.get(f"/api/conversion/{job_id}")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "converter_unavailable"


def test_member_center_rejecting_the_client_secret_is_idp_misconfigured(alice_http, sandbox):
    sandbox.SANDBOX_MC_CLIENT_SECRET = sandbox.MC_SERVICE_CLIENT_SECRET
    sandbox.MC_SERVICE_CLIENT_SECRET = "not-the-secret"
    response = alice_http.upload(standard_form())
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "idp_misconfigured"
    assert "not-the-secret" not in response.text
    assert ConversionJob.objects.count() == 0


def test_member_center_down_is_idp_unavailable(alice_http):
    faults.arm("mc.token", 503, times=3)
    response = alice_http.get("/api/conversion/active")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "idp_unavailable"


def test_faa_failing_on_pull_is_faa_unavailable_and_saves_nothing(alice_http, alice):
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    assert wait_until_finished(alice_http, job_id)["status"] == "completed"
    faults.arm("faa.get", 503, times=3)
    response = alice_http.post(f"/api/conversion/{job_id}/promote-to-models")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "faa_unavailable"
    assert NefModel.objects.count() == 0
    # Once FAA is back, the same request saves the model.
    again = alice_http.post(f"/api/conversion/{job_id}/promote-to-models")
    assert again.status_code == 200
    assert NefModel.objects.get().source_reference == job_id


def test_a_stage_failure_shows_as_a_failed_job_with_its_code_and_message(alice_http):
    job_id = alice_http.upload(standard_form(filename="net-fail-nef.onnx")).json()["job_id"]
    job = wait_until_finished(alice_http, job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "compile_failed"
    assert job["error"]["stage"] == "nef"
    assert job["error"]["message"]
    page = alice_http.get(f"/convert/{job_id}/")
    assert "compile_failed" in page.text
    assert job["error"]["message"] in page.text


def test_rotated_keys_fail_one_upload_clearly_and_the_next_one_works(alice_http, monkeypatch):
    member_center.service_token(member_center.SCOPE_JOB_WRITE)  # cached, about to go stale
    monkeypatch.setattr(tokens, "_SALT", "sandbox.tokens.rotated")  # MC rotates its keys
    first = alice_http.upload(standard_form())
    assert first.status_code == 503
    assert first.json()["error"]["code"] == "upload_not_accepted"
    assert ConversionJob.objects.count() == 0
    second = alice_http.upload(standard_form())
    assert second.status_code == 201, second.text
