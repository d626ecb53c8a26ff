"""A new user's first pages in Chromium, at 360 and 1280 px, in English and Traditional
Chinese: conversion history says why a job failed, /downloads/ shows the command line
and its install command, and stacked cards (home, convert) keep a gap between them.
Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import pytest
from django.utils import translation

from conversion.hints import failure_summary
from tests.client.conftest import built_wheel_dir  # noqa: F401  (the agent's wheel)
from tests.conversion.factories import make_job

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hant"]
WIDTHS = [360, 1280]
CLI = {"en": "the command line", "zh-hant": "命令列"}

# Each card (a .card, a chip on the convert page) that follows another one's bottom
# edge in the page, and how far below it.
CARD_GAPS = """() => {
  const cards = Array.from(document.querySelectorAll('main .card, main .chip-choice'))
    .map(el => el.getBoundingClientRect()).filter(r => r.height > 0);
  const gaps = [];
  cards.forEach((upper, i) => cards.slice(i + 1).forEach(lower => {
    const overlapX = Math.min(upper.right, lower.right) - Math.max(upper.left, lower.left);
    if (overlapX > 0 && lower.top >= upper.bottom - 1) gaps.push(lower.top - upper.bottom);
  }));
  return gaps;
}"""


def fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_history_says_why_a_job_failed(open_tab, live_server, alice, language, width):
    job = make_job(
        alice,
        status="failed",
        filename="yolo-fail-bie.onnx",
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Quantization failed: the model could not be converted.",
    )
    with translation.override(language):
        why = failure_summary(job)
    tab = open_tab(language=language, viewport=(width, 740))
    tab.goto(f"{live_server.url}/conversions/")
    reason = tab.locator(".failure-reason")
    assert reason.is_visible()
    assert reason.inner_text().strip() == why
    tab.shot(f"history-{width}")
    assert fits(tab)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_downloads_shows_the_command_line_and_how_to_install_it(
    open_tab,
    live_server,
    settings,
    built_wheel_dir,  # noqa: F811  (the fixture imported above)
    language,
    width,
):
    settings.CLIENT_DOWNLOADS_DIR = built_wheel_dir
    tab = open_tab(language=language, viewport=(width, 740))
    tab.goto(f"{live_server.url}/downloads/")
    text = tab.inner_text("main")
    assert CLI[language] in text
    install = tab.locator("main .command code").first
    assert install.is_visible()
    assert install.inner_text().startswith("pip install ")
    assert "/downloads/visiona_client-" in install.inner_text()
    assert tab.locator("main .command code", has_text="visiona login --server").is_visible()
    tab.shot(f"downloads-{width}")
    assert fits(tab)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/", "/convert/"])
def test_stacked_cards_keep_a_gap_on_a_phone(open_tab, live_server, sandbox, language, path):
    tab = open_tab(language=language, viewport=(360, 740))
    tab.goto(f"{live_server.url}{path}")
    tab.shot("cards-360")
    gaps = tab.evaluate(CARD_GAPS)
    assert gaps, "no cards stacked at 360 px"
    assert min(gaps) >= 8, gaps  # 0.5 rem at least: not touching
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.shot("cards-1280")
    assert fits(tab)
