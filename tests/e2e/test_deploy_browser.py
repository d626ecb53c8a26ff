"""Deploy from the model page to a connected demo agent, in Chromium, by keyboard, at
360 px, in English and Traditional Chinese; the progress page follows it live and the
device page then lists the model (read through the tunnel) and the deployment.

Screenshots at 1280x800 and 390x844 land in test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.e2e.deployment_support import FileTap, wait_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SIZE = 512 * 1024
INSTALLED = {"en": "Installed", "zh-hant": "已安裝"}
MODELS_TITLE = {"en": "Models on the device", "zh-hant": "裝置上的模型"}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def shots(page, name: str) -> None:
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.shot(f"{name}-{width}")
        assert no_sideways_scroll(page), (name, width)
    page.set_viewport_size({"width": 360, "height": 740})


def tab_to(page, selector: str, *, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_deploy_from_the_model_page_and_watch_it_arrive(
    page, live_server, connected_agent, alice, make_model, monkeypatch, language
):
    tap = FileTap(monkeypatch)
    tap.hold_at = SIZE // 2
    model = make_model(alice, "Person detector", chips=("KL720",), size=SIZE)
    device = connected_agent.device
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto(f"{live_server.url}/models/{model.pk}/")
    assert no_sideways_scroll(page)
    shots(page, "model")
    tab_to(page, f"a[href='/devices/deploy/{model.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/")
    assert no_sideways_scroll(page)
    shots(page, "deploy")

    tab_to(page, "input[type=checkbox][name=device_ids]")
    page.keyboard.press("Space")
    assert page.is_checked(f"#device-{device.pk}")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/progress/")
    assert no_sideways_scroll(page)
    row = page.locator(".deployment-row[data-deployment-id]")
    assert tap.held.wait(30)  # half the file is on the device: not installed yet
    assert row.get_attribute("data-state") in ("pending", "downloading")
    shots(page, "progress-under-way")

    tap.release.set()  # the page follows, without a reload
    page.wait_for_selector(".deployment-row[data-state=installed]", timeout=60_000)
    assert INSTALLED[language] in row.inner_text()
    assert no_sideways_scroll(page)
    shots(page, "progress-installed")
    deployment_id = row.get_attribute("data-deployment-id")
    assert wait_state(deployment_id, "installed").state == "installed"

    page.goto(f"{live_server.url}/devices/{device.pk}/")
    installed = page.locator(".installed-models")
    assert MODELS_TITLE[language] in installed.inner_text()
    assert "Person detector" in installed.inner_text()
    assert model.sha256 in installed.inner_text()
    history = page.locator("#deployment-history-title + *")
    assert "Person detector" in history.inner_text()
    assert INSTALLED[language] in history.inner_text()
    assert no_sideways_scroll(page)
    shots(page, "device")
