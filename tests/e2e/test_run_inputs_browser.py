"""Run on a device, in Chromium at 360 and 1280 px, in English and Traditional Chinese:
the inputs are checked before the form is sent, as the server checks them. A text file
named .png is named by the page as soon as it is chosen, and pressing Run sends
nothing; a real image with it passes once the false one is taken out."""

from __future__ import annotations

import re

import pytest

from deployments.models import Run
from devices import services as device_services
from tests.deployments.run_support import IMAGES, installed_model

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

NOT_AN_INPUT = {
    "en": "notes.png is not an image (PNG, JPEG, BMP), a .npy or a .npz.",
    "zh-hant": "notes.png 不是圖片（PNG、JPEG、BMP）、.npy 或 .npz 檔案。",  # noqa: RUF001
}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("viewport", [(360, 740), (1280, 800)], ids=["360", "1280"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_false_input_is_named_before_anything_is_sent(
    open_tab, live_server, alice, tmp_path, language, viewport
):
    device = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="RUN-INPUTS-1",
        chip="KL720",
        name="Bench",
        client_address="192.0.2.1",
    ).device
    model, _built, _nef = installed_model(alice, device)
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"my notes, not a picture")
    picture = tmp_path / "cat.png"
    picture.write_bytes(IMAGES[0])
    posts: list[str] = []
    tab = open_tab(language=language, viewport=viewport)
    tab.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    tab.goto(f"{live_server.url}/runs/new/{model.pk}/")

    tab.set_input_files("#run-inputs", [str(picture), str(notes)])
    error = tab.locator("#run-inputs-error")
    error.wait_for()
    assert NOT_AN_INPUT[language] in error.inner_text()
    assert "cat.png" not in error.inner_text()
    assert tab.get_attribute("#run-inputs", "aria-invalid") == "true"
    assert fits(tab)
    tab.shot("false-input")
    tab.click("#run-submit")
    tab.wait_for_function("document.activeElement.id === 'run-inputs'")
    assert posts == [] and not Run.objects.exists()

    tab.set_input_files("#run-inputs", [str(picture)])
    error.wait_for(state="hidden")
    tab.click("#run-submit")
    tab.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    assert Run.objects.get().inputs_count == 1
