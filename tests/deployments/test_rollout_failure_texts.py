"""A device's failed install on a rollout's page says, in the reader's language, what
happened and what to do (the deploy pages' sentence for a known code, a general one
for an unknown code), with the agent's own words quoted after it."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from deployments import failures, rollout_texts
from deployments.rollout_models import RolloutTarget

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def failed(code: str, detail: str = "") -> RolloutTarget:
    return RolloutTarget(state="failed", reason_code=code, reason=detail)


@pytest.mark.parametrize("code", [c for c in failures.KNOWN_CODES if c != "chip_mismatch"])
def test_a_known_code_reads_as_the_deploy_pages_say_it(code):
    target = failed(code, "the demo device refuses installs")
    for language in ("en", "zh-hant"):
        with translation.override(language):
            failure = failures.failure_of_code(code)
            shown = rollout_texts.target_reason(target, model_chips=["KL720"])
        assert shown.startswith(failure.summary) and failure.next_step in shown, shown
        assert "the demo device refuses installs" in shown
        assert f"({code})" not in shown
    assert shown.endswith("裝置回報：「the demo device refuses installs」")  # noqa: RUF001
    assert "。 " not in shown  # Chinese sentences follow one another without a space
    assert shown.count("“") == 0


def test_an_unknown_code_gets_a_general_sentence_with_the_agent_words_quoted():
    target = failed("gremlins", "the NPU is haunted")
    english = rollout_texts.target_reason(target, model_chips=[])
    assert english.startswith("The device reported a failure visionA does not know (gremlins).")
    assert english.endswith("The device reported: “the NPU is haunted”")
    with translation.override("zh-hant"):
        chinese = rollout_texts.target_reason(target, model_chips=[])
    assert CHINESE.search(chinese.replace("the NPU is haunted", ""))
    assert "gremlins" in chinese and "「the NPU is haunted」" in chinese
    assert "The device" not in chinese


def test_an_unknown_code_without_words_still_says_what_to_do():
    shown = rollout_texts.target_reason(failed("failed"), model_chips=[])
    assert shown.startswith("The device reported a failure visionA does not know (failed).")
    assert "Retry it" in shown
    assert rollout_texts.target_reason(failed(""), model_chips=[]) == ""
