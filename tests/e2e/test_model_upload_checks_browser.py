"""My models' upload in Chromium at 1280 and 360 px, in English and Traditional Chinese:
a NEF whose header names another chip than the one ticked is refused next to the chips,
and the same file a second time is refused next to the file, with a link to the model
that has it. Nothing is stored either time."""

from __future__ import annotations

import re

import pytest

from models_repo.models import NefModel
from sandbox import nef as sandbox_nef

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

WRONG_CHIP = {"en": "compiled for the KL720", "zh-hant": "是為 KL720 編譯的"}
ALREADY = {"en": "You already have this file in My models", "zh-hant": "已經有這個檔案"}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("viewport", [(360, 740), (1280, 800)], ids=["360", "1280"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_upload_checks_the_header_and_refuses_a_second_copy(
    open_tab, live_server, alice, tmp_path, language, viewport
):
    nef = tmp_path / "detector.nef"
    nef.write_bytes(sandbox_nef.build(platform="720", job_id="j1", model_sha256="0" * 64))
    tab = open_tab(language=language, viewport=viewport)
    tab.goto(f"{live_server.url}/models/upload/")
    tab.set_input_files("#id_file", str(nef))
    tab.check("input[name=chips][value=KL520]")
    tab.click("#upload-submit")
    error = tab.locator("#js-error-chips")
    error.wait_for()
    assert WRONG_CHIP[language] in error.inner_text()
    assert fits(tab)
    tab.shot("wrong-chip")
    assert not NefModel.objects.exists()

    tab.uncheck("input[name=chips][value=KL520]")
    tab.check("input[name=chips][value=KL720]")
    tab.click("#upload-submit")
    tab.wait_for_url(re.compile(r"/models/\d+/$"))
    first = NefModel.objects.get()

    tab.goto(f"{live_server.url}/models/upload/")
    tab.set_input_files("#id_file", str(nef))
    tab.check("input[name=chips][value=KL720]")
    tab.fill("#id_name", "again")
    tab.click("#upload-submit")
    error = tab.locator("#js-error-file")
    error.wait_for()
    assert ALREADY[language] in error.inner_text()
    assert error.locator("a").get_attribute("href") == f"/models/{first.pk}/"
    assert fits(tab)
    tab.shot("already-stored")
    assert NefModel.objects.count() == 1
