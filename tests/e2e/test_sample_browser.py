"""A new user's first ten minutes in Chromium, in English and Traditional Chinese: the
convert page's "Try the sample model" fills the form, one press converts it in the
sandbox, the job page saves it and offers Deploy, and the sample's NEF arrives on a
connected demo agent. Screenshots at 1280 and 360 px in test-artifacts/browser/."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from conversion.models import ConversionJob
from models_repo.models import NefModel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

INSTALLED = {"en": "Installed", "zh-hant": "已安裝"}
SAMPLE = {"en": "Try the sample model", "zh-hant": "試用範例模型"}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def shots(page, name: str) -> None:
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.shot(f"{name}-{width}")
        assert fits(page), (name, width)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_sample_converts_saves_and_deploys(
    page, live_server, sandbox, connected_agent, alice, language
):
    sandbox.VISIONA_SANDBOX = True
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/convert/")
    button = page.locator("#sample-button")
    assert button.inner_text() == SAMPLE[language]
    shots(page, "convert-offer")
    button.click()
    page.wait_for_selector("#sample-button:enabled")  # disabled while it fetches
    assert page.evaluate("document.getElementById('id_ref_images').files.length") == 10
    assert page.evaluate("document.getElementById('id_model').files[0].name") == (
        "sample-classifier.onnx"
    )
    assert page.evaluate("document.activeElement.id") == "convert-submit"
    shots(page, "convert-filled")
    page.keyboard.press("Enter")  # the one press that starts it

    page.wait_for_url(re.compile(r"/convert/[0-9a-f-]{36}/$"))
    page.wait_for_selector("#job-completed", timeout=60_000)
    job = ConversionJob.objects.get(owner=alice)
    assert (job.chip, job.filename) == ("KL720", "sample-classifier.onnx")
    assert job.preflight_warnings in ([], None, {})  # nothing to warn about on any chip
    page.click("#save-button")
    page.wait_for_selector("#saved-model-deploy")
    shots(page, "job-saved")
    model = NefModel.objects.get(owner=alice)
    assert model.chips == ["KL720"]

    page.set_viewport_size({"width": 360, "height": 740})
    page.click("#saved-model-deploy")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/")
    page.check(f"#device-{connected_agent.device.pk}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/progress/")
    page.wait_for_selector(".deployment-row[data-state=installed]", timeout=60_000)
    assert INSTALLED[language] in page.inner_text(".deployment-row")
    shots(page, "deployed")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_sample_picks_the_chip_it_deploys_to(open_tab, live_server, sandbox, language, width):
    """Whatever chip was picked before, the sample brings its own (the demo device's)."""
    sandbox.VISIONA_SANDBOX = True
    tab = open_tab(language=language, viewport=(width, 740))
    tab.goto(f"{live_server.url}/convert/")
    tab.check('input[name="chip"][value="KL520"]')
    tab.click("#sample-button")
    tab.wait_for_selector("#sample-button:enabled")  # disabled while it fetches
    assert tab.evaluate("document.getElementById('id_model').files.length") == 1
    assert tab.eval_on_selector('input[name="chip"]:checked', "el => el.value") == "KL720"
    tab.shot(f"sample-chip-{width}")
    assert fits(tab)
