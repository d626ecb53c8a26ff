"""The stage stepper as a screen reader meets it: each stage's state in words, the
current one marked, a live region for the script's announcements."""

import json
import re

import pytest
from django.utils import translation

from tests.conversion.factories import make_job

pytestmark = pytest.mark.django_db


def steps(content: str) -> dict[str, tuple[str, bool]]:
    found = re.findall(
        r'<li class="step step-\w+" data-stage="(\w+)"( aria-current="step")?>.*?'
        r'class="visually-hidden step-state">([^<]*)<',
        content,
        re.S,
    )
    return {stage: (state, bool(current)) for stage, current, state in found}


def test_a_running_job_says_what_is_done_current_and_pending(alice_client, alice, settings):
    settings.CONVERTER_BASE_URL = ""  # no refresh: the stored state is rendered
    job = make_job(alice, status="running", stage="bie")
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert steps(content) == {
        "onnx": ("done", False),
        "bie": ("in progress", True),
        "nef": ("not started", False),
    }
    assert 'id="job-announcer" class="visually-hidden" role="status" aria-live="polite"' in content


def test_a_finished_job_has_no_stage_in_progress(alice_client, alice):
    job = make_job(alice, status="completed")
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert set(steps(content).values()) == {("done", False)}


def test_the_script_gets_each_states_words_in_the_users_language(alice_client, alice):
    job = make_job(alice, status="completed")
    alice_client.cookies["django_language"] = "zh-hant"
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    data = re.search(r'<script id="job-data" type="application/json">(.*?)</script>', content)
    states = json.loads(data.group(1))["stepStates"]
    assert set(states) == {"done", "current", "failed", "cancelled", "pending"}
    with translation.override("zh-hant"):
        assert states["current"] == translation.gettext("in progress") != "in progress"


def test_a_queued_job_has_no_stage_in_progress_yet(alice_client, alice, settings):
    settings.CONVERTER_BASE_URL = ""
    job = make_job(alice, status="created", stage="onnx", progress=0)
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert set(steps(content).values()) == {("not started", False)}
    assert 'class="status status-created" id="job-status">Queued<' in content


def test_a_cancelled_job_reads_cancelled_in_grey_not_failed(alice_client, alice):
    job = make_job(alice, status="failed", error_code="cancelled", error_stage="bie")
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert 'class="status status-cancelled" id="job-status">Cancelled<' in content
    shown = content.split('<script id="job-data"')[0]  # the script's labels name every status
    assert "Failed" not in shown and "step-failed" not in shown
    assert steps(content) == {
        "onnx": ("done", False),
        "bie": ("cancelled", False),
        "nef": ("not started", False),
    }
    history = alice_client.get("/conversions/").content.decode()
    assert '<span class="status status-cancelled">Cancelled</span>' in history
    assert "Failed" not in history


def test_a_failed_job_still_reads_failed(alice_client, alice):
    job = make_job(alice, status="failed", error_code="compile_failed", error_stage="nef")
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert 'class="status status-failed" id="job-status">Failed<' in content
    assert steps(content)["nef"] == ("failed", False)
    history = alice_client.get("/conversions/").content.decode()
    assert '<span class="status status-failed">Failed</span>' in history
