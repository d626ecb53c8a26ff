"""The stage stepper as a screen reader meets it while a job runs: each stage's words
follow its colour, stage changes and the end are announced, the result gets the focus."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import standard_form

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

WORDS = {"done": "done", "current": "in progress", "failed": "failed", "pending": "not started"}

READ_STEPS = """() => Array.from(document.querySelectorAll('#job-stepper .step')).map(step => [
  step.className.replace('step step-', ''),
  step.querySelector('.step-state').textContent,
  step.getAttribute('aria-current'),
])"""


def assert_true_to_their_colour(steps):
    for state, words, current in steps:
        assert words == WORDS[state], steps
        assert (current == "step") == (state == "current"), steps


def test_the_stepper_stays_true_and_announces_stages_and_the_end(
    open_tab, live_server, sandbox, alice, alice_http
):
    sandbox.SANDBOX_STAGE_SECONDS = 3
    created = alice_http.upload(standard_form())
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    tab = open_tab()
    tab.goto(f"{live_server.url}/convert/{job_id}/")
    announcer = tab.locator("#job-announcer")
    announcer.filter(has_text="Now: Quantization (BIE).").wait_for(timeout=20_000)
    steps = tab.evaluate(READ_STEPS)
    assert steps[0][0] == "done"
    assert_true_to_their_colour(steps)
    tab.shot("announced-bie")
    announcer.filter(has_text="Now: Compilation (NEF).").wait_for(timeout=20_000)
    assert_true_to_their_colour(tab.evaluate(READ_STEPS))
    # The end: announced, then the reloaded page puts the focus on the result.
    tab.locator("#job-completed").wait_for(timeout=30_000)
    assert tab.evaluate("document.activeElement.closest('#job-completed') !== null")
    assert tab.evaluate("document.activeElement.tagName") == "H2"
    assert_true_to_their_colour(tab.evaluate(READ_STEPS))
    tab.shot("completed-focused")


def test_a_job_cancelled_on_its_page_reads_cancelled_in_grey(
    open_tab, live_server, sandbox, alice_http
):
    sandbox.SANDBOX_STAGE_SECONDS = 120
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    tab = open_tab()
    tab.goto(f"{live_server.url}/convert/{job_id}/")
    # Queued first (the sandbox's queue wait): no stage is in progress yet.
    assert tab.locator("#job-status").text_content() == "Queued"
    assert [step[0] for step in tab.evaluate(READ_STEPS)] == ["pending"] * 3
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.locator("#cancel-button").click()
    # The page reloads with the result: the user's choice, not a failure.
    tab.locator("#job-failed h2").filter(has_text="The conversion was cancelled").wait_for(
        timeout=20_000
    )
    badge = tab.locator("#job-status")
    assert badge.text_content() == "Cancelled"
    assert badge.get_attribute("class") == "status status-cancelled"
    steps = tab.evaluate(READ_STEPS)
    assert [state for state, _words, _current in steps] == ["cancelled", "pending", "pending"]
    assert steps[0][1] == "cancelled"
    tab.shot("cancelled")
