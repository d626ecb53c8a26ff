"""Every page at 360 px, in English and Traditional Chinese: nothing pushes the page
sideways, nothing hides behind a sideways scroll (tables, actions), and no status pill
wraps into a column of characters."""

from __future__ import annotations

import pytest

from deployments import group_services
from deployments import services as deployment_services
from devices import services as device_services
from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream
from tests.conversion.factories import make_job
from tokens import services as token_services

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Everything in main that a user reads or presses, and where it ends on the right.
OUT_OF_VIEW = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll(
    'main a, main button, main input, main select, main textarea, main td, main th,'
    + ' main .status, main time'
  )).filter(el => {
    const r = el.getBoundingClientRect();
    // Visually hidden (a stacked table's header row, clipped to 1 px) is not in the way.
    for (let up = el.parentElement; up && up.tagName !== 'MAIN'; up = up.parentElement) {
      if (up.getBoundingClientRect().width <= 1) return false;
    }
    return r.width > 1 && r.height > 1 && r.right > width + 0.5;
  }).map(el => el.outerHTML.slice(0, 80));
}"""
SIDEWAYS_SCROLLERS = """() => Array.from(document.querySelectorAll('main *')).filter(el => {
  const style = getComputedStyle(el);
  return ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
}).map(el => el.outerHTML.slice(0, 80))"""
# The top bar's entries, by the row they sit on (one row: a lone entry on a second row
# reads as a different kind of link).
NAV_ROWS = """() => new Set(Array.from(document.querySelectorAll('.main-nav a'))
  .map(el => Math.round(el.getBoundingClientRect().top))).size"""
WRAPPED_PILLS = """() => Array.from(document.querySelectorAll('.status')).filter(el => {
  const size = parseFloat(getComputedStyle(el).fontSize);
  return el.getBoundingClientRect().height > size * 2.4;
}).map(el => el.textContent)"""


@pytest.fixture
def everything(alice):
    alice.email = "alexandra.konstantinopoulou@example.com"
    alice.save()
    done = make_job(alice, status="completed", filename="a-model-with-a-rather-long-name.onnx")
    failed = make_job(
        alice,
        status="failed",
        filename="yolo-fail-bie.onnx",
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Quantization failed: the model could not be converted.",
    )
    model = model_create_from_stream(
        owner=alice,
        name="person-detector-for-the-loading-dock-camera",
        chips=["KL720", "KL630"],
        source=ModelSource.UPLOADED,
        filename="m.nef",
        chunks=[b"nef" * 2000],
        description="A detector trained on footage from our own cameras",
    )
    device = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="BENCH-KL720-WITH-A-RATHER-LONG-SERIAL-NUMBER",
        chip="KL720",
        name="A bench machine with a rather long name",
        client_address="192.0.2.1",
    ).device
    # Two models installed one after the other: the device and its group can roll back,
    # and the delete page lists what uses the model.
    before = model_create_from_stream(
        owner=alice,
        name="the-loading-dock-detector-before-this-one",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="m.nef",
        chunks=[b"old" * 2000],
    )
    for installed in (before, model):
        (result,) = deployment_services.deployments_create(
            user=alice, model_id=installed.pk, device_ids=[device.pk]
        )
        for state in ("downloading", "verifying", "installed"):
            deployment_services.deployment_report(
                device=device, deployment_id=result.deployment.pk, state=state
            )
    group = group_services.group_create(
        user=alice, name="The loading dock's cameras", device_ids=[device.pk]
    )
    cancelled = make_job(
        alice, status="failed", filename="cancelled.onnx", error_code="cancelled", error_stage="bie"
    )
    device_services.pairing_code_create(user=alice)  # a waiting code for the pair page
    token = token_services.token_create(
        owner=alice,
        name="CI on the build server with a rather long name",
        scopes=["read", "convert", "deploy"],
        expires_in_days=30,
    ).token
    return {
        "home": "/",
        "convert": "/convert/",
        "history": "/conversions/",
        "job-completed": f"/convert/{done.job_id}/",
        "job-failed": f"/convert/{failed.job_id}/",
        "job-cancelled": f"/convert/{cancelled.job_id}/",
        "models": "/models/",
        "model-upload": "/models/upload/",
        "model": f"/models/{model.pk}/",
        "model-edit": f"/models/{model.pk}/edit/",
        "model-delete": f"/models/{model.pk}/delete/",
        "devices": "/devices/",
        "device": f"/devices/{device.pk}/",
        "device-rename": f"/devices/{device.pk}/rename/",
        "device-unpair": f"/devices/{device.pk}/unpair/",
        "device-rollback": f"/devices/{device.pk}/rollback/",
        "group-rollback": f"/devices/groups/{group.pk}/rollback/",
        "pair": "/devices/pair/",
        "tokens": "/tokens/",
        "token-revoke": f"/tokens/{token.pk}/revoke/",
        "downloads": "/downloads/",
        "not-found": "/no-such-page/",
    }


def assert_fits(tab, name):
    assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name
    assert tab.evaluate(OUT_OF_VIEW) == [], name
    assert tab.evaluate(SIDEWAYS_SCROLLERS) == [], name
    assert tab.evaluate(WRAPPED_PILLS) == [], name
    assert tab.evaluate(NAV_ROWS) <= 1, name


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_every_page_is_usable_at_360_px(
    open_tab, live_server, sandbox, alice, everything, language
):
    tab = open_tab(
        viewport=(360, 740),
        language=language,
        timezone_id="Asia/Taipei",
    )
    for name, path in everything.items():
        tab.goto(live_server.url + path)
        tab.wait_for_load_state("networkidle")
        tab.shot(name)
        assert_fits(tab, name)
    # The pair page with a fresh code, its commands and the waiting codes' list.
    tab.goto(f"{live_server.url}/devices/pair/")
    tab.click("main form[action='/devices/pair/'] button[type=submit]")
    tab.wait_for_selector("#pairing-code")
    tab.shot("pair-with-code")
    assert_fits(tab, "pair-with-code")
    assert tab.locator("#live-codes tr[data-pairing-code]").count() == 2
