"""The retry schedule of each upstream call (docs/conversion.md), without sleeping."""

from __future__ import annotations

import uuid

import pytest

from conversion.clients import converter, errors, faa, http, member_center
from tests.conversion.upstreams import CONVERTER, FAA, MC

JOB = str(uuid.uuid4())


@pytest.fixture
def waits(upstream_settings, monkeypatch):
    """The delays the client asks for, in seconds, instead of sleeping them."""
    upstream_settings.UPSTREAM_BACKOFF_SCALE = 1.0
    asked: list[float] = []
    monkeypatch.setattr(http.time, "sleep", asked.append)
    return asked


def test_token_fetches_wait_one_then_two_seconds(upstream, waits):
    upstream.replace("POST", f"{MC}/oauth/token", status=503)
    with pytest.raises(errors.TokenServiceUnavailable):
        member_center.service_token("s")
    assert waits == [1, 2]


def test_download_tokens_wait_one_then_two_seconds(upstream, waits):
    upstream.post(f"{MC}/file-access/download-tokens", status=500)
    with pytest.raises(errors.DownloadTokenUnavailable):
        member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    assert waits == [1, 2]


def test_get_job_waits_half_then_one_second(upstream, waits):
    upstream.get(f"{CONVERTER}/api/v1/jobs/{JOB}", status=502)
    with pytest.raises(errors.ConverterUnavailable):
        converter.get_job(JOB)
    assert waits == [0.5, 1]


def test_promote_waits_half_then_one_second(upstream, waits):
    upstream.post(f"{CONVERTER}/api/v1/jobs/{JOB}/promote", status=500)
    with pytest.raises(errors.ConverterUnavailable):
        converter.promote(JOB, user_id="u", target_object_key="k")
    assert waits == [0.5, 1]


def test_the_in_progress_list_is_retried_once_after_half_a_second(upstream, waits):
    upstream.get(f"{CONVERTER}/api/v1/jobs", status=500)
    with pytest.raises(errors.ConverterUnavailable):
        converter.list_in_progress(user_id="u")
    assert waits == [0.5]


def test_the_upload_never_waits_or_retries(upstream, waits):
    calls = upstream.post(f"{CONVERTER}/api/v1/jobs", status=503)
    with pytest.raises(errors.ConverterUnavailable):
        converter.create_job(body=iter([b"x"]), content_type="multipart/form-data; boundary=b")
    assert (waits, calls.call_count) == ([], 1)


def test_faa_reads_wait_half_then_one_second(upstream, waits):
    upstream.get(f"{FAA}/files/k", status=503)
    with pytest.raises(errors.FaaUnavailable), faa.open_file("k"):
        pass
    assert waits == [0.5, 1]


def test_a_4xx_answer_never_waits(upstream, waits):
    upstream.get(f"{CONVERTER}/api/v1/jobs/{JOB}", status=404)
    with pytest.raises(errors.JobNotFound):
        converter.get_job(JOB)
    assert waits == []
