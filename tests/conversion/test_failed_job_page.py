"""A failed job's page: the stage's label, a summary in the user's language by the
converter's code, and the converter's own message beside it."""

import re

import pytest
from django.utils import translation

from tests.conversion.factories import make_job

pytestmark = pytest.mark.django_db


def zh(text: str) -> str:
    with translation.override("zh-hant"):
        translated = translation.gettext(text)
    assert translated != text, text  # it has a translation
    return translated


def failed_page(client, alice, language="en", **error):
    job = make_job(alice, status="failed", **error)
    client.cookies["django_language"] = language
    content = client.get(f"/convert/{job.job_id}/").content.decode()
    return content.split('id="job-failed"')[1]


def test_the_stage_is_its_label_not_its_code(alice_client, alice):
    failed = failed_page(
        alice_client,
        alice,
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Quantization failed: the model could not be converted to BIE.",
    )
    assert '<dd id="failure-stage">Quantization (BIE)</dd>' in failed
    assert ">bie<" not in failed


def test_in_chinese_a_translated_summary_stands_beside_the_converters_message(alice_client, alice):
    failed = failed_page(
        alice_client,
        alice,
        "zh-hant",
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Calibration diverged at node conv_3.",
    )
    summary = zh("Quantization failed: the model could not be converted to BIE.")
    assert f'<p id="failure-summary">{summary}</p>' in failed
    assert f'<dd id="failure-stage">{zh("Quantization (BIE)")}</dd>' in failed
    assert "轉換器的訊息" in failed
    # The converter's English, marked as English for screen readers.
    assert re.search(r'<dd id="failure-message" lang="en">Calibration diverged', failed)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_what_fails_is_said_once_and_the_advice_only_advises(alice_client, alice, language):
    """The converter's message that is the summary's English is not repeated under its own
    label, and what to try next does not start by saying again what failed."""
    failed = failed_page(
        alice_client,
        alice,
        language,
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Quantization failed: the model could not be converted to BIE.",
    )
    assert 'id="failure-message"' not in failed
    assert failed.count("Quantization failed") == (1 if language == "en" else 0)
    hint = re.search(r'<p id="failure-hint">(.*?)</p>', failed, re.S).group(1)
    assert "Quantization failed" not in hint and "量化失敗" not in hint


def test_an_unknown_code_is_summed_up_by_its_stage(alice_client, alice):
    failed = failed_page(
        alice_client,
        alice,
        "zh-hant",
        error_code="weird_new_code",
        error_stage="nef",
        error_message="Something odd in the compiler",
    )
    stage = zh("Compilation (NEF)")
    assert zh("The conversion failed during this stage: %(stage)s.") % {"stage": stage} in failed
    assert "Something odd in the compiler" in failed


def test_a_lost_job_says_so_once_in_the_users_language(alice_client, alice):
    failed = failed_page(
        alice_client,
        alice,
        "zh-hant",
        error_code="job_lost",
        error_stage="onnx",
        error_message="The converter no longer has this job (it expired or was lost). "
        "Start it again.",
    )
    assert 'id="failure-message"' not in failed  # our own words, not the converter's
    assert "expired or was lost" not in failed
    lost = zh("The converter no longer has this job (it expired or was lost). Start it again.")
    assert failed.count(lost) == 1


@pytest.mark.parametrize("stage", ["onnx", "bie", "nef", ""])
def test_a_cancelled_job_says_so_and_gives_no_failure_advice(alice_client, alice, stage):
    failed = failed_page(
        alice_client, alice, error_code="cancelled", error_stage=stage, error_message="cancelled"
    )
    assert "<h2>The conversion was cancelled</h2>" in failed
    assert "<h2>The conversion failed</h2>" not in failed
    assert 'id="failure-hint"' not in failed
    assert "contact support" not in failed
    # The heading says it: no summary, no converter's message repeating it.
    assert 'id="failure-summary"' not in failed
    assert 'id="failure-message"' not in failed


def test_a_cancelled_jobs_api_answer_has_no_hint(alice_client, alice, upstream):
    job = make_job(alice, status="failed", error_code="cancelled", error_stage="nef")
    error = alice_client.get(f"/api/conversion/{job.job_id}").json()["error"]
    assert error["code"] == "cancelled"
    assert error["hint"] is None


def test_a_compile_failure_keeps_its_advice(alice_client, alice, upstream):
    job = make_job(alice, status="failed", error_code="compile_failed", error_stage="nef")
    error = alice_client.get(f"/api/conversion/{job.job_id}").json()["error"]
    assert "Check that the model fits the chosen chip" in error["hint"]
    failed = failed_page(alice_client, alice, error_code="compile_failed", error_stage="nef")
    assert 'id="failure-hint"' in failed
