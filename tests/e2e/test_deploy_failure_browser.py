"""When a deployment goes wrong, in Chromium at 1280 and 360 px, in English and
Traditional Chinese: a real checksum failure on a connected demo agent is explained as
it happens (what happened, what to do), its bar turns red, Retry deploys again and the
bar of the new one ends green; the device page's table keeps the device's long hash
inside its card; an offline device's deployment says it waits instead of "Sent"."""

from __future__ import annotations

import pytest
from django.conf import settings

from devices import services as device_services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

EXPLAINED = {
    "en": "The file that reached the device is not the model in My models",
    "zh-hant": "送達裝置的檔案與「我的模型」中的模型不同",
}
WAITS = {"en": "offline: the model waits for it", "zh-hant": "未連線：模型會等待"}  # noqa: RUF001
RED, GREEN = "rgb(180, 35, 24)", "rgb(27, 127, 59)"
# Anything inside the card that ends right of it (a hash that did not wrap).
# A visually hidden part (a stacked table's header row, clipped to 1 px) is not in the way.
OUTSIDE = """sel => { const box = document.querySelector(sel);
  const card = box.getBoundingClientRect();
  return Array.from(box.querySelectorAll('*')).filter(el => {
    for (let up = el.parentElement; up && up !== box; up = up.parentElement) {
      if (up.getBoundingClientRect().width <= 1) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.right > card.right + 0.5; }).map(el => el.outerHTML.slice(0, 60)); }"""


def in_language(page, live_server, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def shots(page, name):
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.shot(f"{name}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def bar_colour(page):
    return page.eval_on_selector(
        ".deployment-row progress", "el => getComputedStyle(el).accentColor"
    )


def corrupt(model):
    with open(model.file.path, "r+b") as stored:
        stored.seek(1000)
        byte = stored.read(1)
        stored.seek(1000)
        stored.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_failure_is_explained_and_retry_fixes_it(
    page, live_server, connected_agent, alice, make_model, language
):
    in_language(page, live_server, language)
    model = make_model(alice, "Detector", chips=("KL720",), size=64 * 1024)
    corrupt(model)
    device = connected_agent.device
    page.goto(f"{live_server.url}/devices/deploy/{model.pk}/")
    page.check(f"#device-{device.pk}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/progress/")
    assert page.locator(".message-success").count() == 0  # no green "sent" above a failure
    page.wait_for_selector(".deployment-row[data-state=failed]", timeout=60_000)
    row = page.locator(".deployment-row")
    assert EXPLAINED[language] in row.inner_text()
    assert page.is_visible(".deployment-row [data-role=retry] button")
    assert bar_colour(page) == RED
    shots(page, "failed")

    corrupt(model)  # undone: the stored file is the model again
    page.set_viewport_size({"width": 360, "height": 740})
    page.click(".deployment-row [data-role=retry] button")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/progress/")
    page.wait_for_selector(".deployment-row[data-state=installed]", timeout=60_000)
    assert bar_colour(page) == GREEN
    assert page.is_hidden(".deployment-row [data-role=failure]")
    shots(page, "retried")

    page.goto(f"{live_server.url}/devices/{device.pk}/")
    history = page.locator(".deployment-history")
    assert EXPLAINED[language] in history.inner_text()
    page.click(".deployment-history details summary")  # the device's words, with the hash
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate(OUTSIDE, ".deployment-history") == [], width
    shots(page, "device")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_an_offline_device_waits(page, live_server, alice, make_model, language):
    in_language(page, live_server, language)
    model = make_model(alice, "Detector", chips=("KL720",))
    device = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="BENCH-1",
        chip="KL720",
        name="Bench",
        client_address="192.0.2.1",
    ).device
    page.goto(f"{live_server.url}/devices/deploy/{model.pk}/")
    page.check(f"#device-{device.pk}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/progress/")
    assert WAITS[language] in page.inner_text(".messages")
    assert page.locator(".message-success").count() == 0
    assert page.is_visible(".deployment-row [data-role=waiting]")
    shots(page, "waiting")
