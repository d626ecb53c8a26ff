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
    assert set(states) == {"done", "current", "failed", "pending"}
    with translation.override("zh-hant"):
        assert states["current"] == translation.gettext("in progress") != "in progress"
