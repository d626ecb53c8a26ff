"""The whole road of a run in Chromium, every part real over HTTP: the sample model
converted in the sandbox, saved with "Keep the ONNX too" ticked, deployed to a connected
demo agent, run from the model page; the run's page fills in by itself (the device's
latency, then the agreement the background worker computed). Then that same run's page
is read at 360 and 1280 px, in English and in Traditional Chinese.

Screenshots land in test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from deployments.models import Run
from models_repo.models import NefModel
from tests.e2e.test_deploy_browser import no_sideways_scroll, tab_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SAMPLES = Path(__file__).resolve().parents[2] / "static" / "samples"
INPUTS = 4
# What the run's page must say, per language: the two figures' headings, where it ran,
# the pixel scale in words, and the charts' bar labels (tooltips).
WORDS = {
    "en": {
        "headings": ("Latency on the device", "Top-1 agreement"),
        "runtime": "demo device, CPU (not a Kneron chip)",
        "scale": "0 to 1 (pixel / 255)",
        "bar": re.compile(r"^#0 [\w.-]+\.png: cosine 0\.9\d{5}$"),
        "latency bar": re.compile(r"^[\d.]+ to [\d.]+ ms: \d+ inferences?$"),
    },
    "zh-hant": {
        "headings": ("裝置上的延遲", "Top-1 一致率"),
        "runtime": "示範裝置，CPU（不是 Kneron 晶片）",  # noqa: RUF001
        "scale": "0 到 1（像素 / 255）",  # noqa: RUF001
        "bar": re.compile(r"^#0 [\w.-]+\.png：餘弦相似度 0\.9\d{5}$"),  # noqa: RUF001
        "latency bar": re.compile(r"^[\d.]+ 到 [\d.]+ ms：\d+ 次推論$"),  # noqa: RUF001
    },
}


def use_language(page, live_server, language: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def convert_and_save_the_sample(page, live_server) -> NefModel:
    page.goto(f"{live_server.url}/convert/")
    page.click("#sample-button")
    page.wait_for_selector("#sample-button:enabled")  # disabled while it fetches
    page.click("#convert-submit")
    page.wait_for_url(re.compile(r"/convert/[0-9a-f-]{36}/$"))
    page.wait_for_selector("#job-completed", timeout=60_000)
    page.check("#id_keep_onnx")  # ticked by default; the test means it
    page.shot("job-keep-onnx")
    page.click("#save-button")
    page.wait_for_selector("#saved-model-deploy")
    return NefModel.objects.get(name="sample-classifier")


def deploy(page, model: NefModel, device_id: str) -> None:
    page.click("#saved-model-deploy")
    page.wait_for_url(f"**/devices/deploy/{model.pk}/")
    page.check(f"#device-{device_id}")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".deployment-row[data-state=installed]", timeout=60_000)


def run_from_the_model_page(page, live_server, model: NefModel) -> None:
    page.goto(f"{live_server.url}/models/{model.pk}/")
    tab_to(page, f"a[href='/runs/new/{model.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/new/{model.pk}/")
    images = sorted((SAMPLES / "calibration").glob("*.png"))[:INPUTS]
    page.set_input_files("#run-inputs", [str(path) for path in images])
    page.shot("run-new")
    assert no_sideways_scroll(page)
    tab_to(page, "#run-submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    # The page reloads itself as the device runs the inputs and the worker compares them.
    page.wait_for_selector("#run-agreement", timeout=90_000)


def read_the_run(page, language: str) -> None:
    words = WORDS[language]
    text = page.inner_text("main")
    for heading in words["headings"]:
        assert heading in text, heading
    assert page.inner_text("#run-runtime") == words["runtime"]
    assert words["scale"] in page.inner_text("#run-options")
    for figure in ("p50", "p90"):
        assert re.search(rf"{figure}\s+\d+\.\d{{3}} ms", page.inner_text("#run-latency"))
    assert re.search(r"0\.9\d{5}", page.inner_text("#run-agreement"))
    assert page.locator("svg").count() == 2
    assert words["latency bar"].match(page.locator("#latency-chart rect title").first.inner_html())
    assert words["bar"].match(page.locator("#agreement-chart rect title").first.inner_html())
    assert page.inner_text("#agreement-chart .chart-axis").split() == ["#0", f"#{INPUTS - 1}"]
    assert page.locator("#run-inputs tbody tr").count() == INPUTS


def test_convert_keep_the_onnx_deploy_run_and_read_it_in_two_languages_and_widths(
    page, live_server, sandbox, connected_agent, alice
):
    sandbox.VISIONA_SANDBOX = True
    use_language(page, live_server, "en")
    page.set_viewport_size({"width": 1280, "height": 800})
    model = convert_and_save_the_sample(page, live_server)
    assert model.has_reference  # the ONNX came along with the NEF
    deploy(page, model, str(connected_agent.device.pk))
    page.set_viewport_size({"width": 360, "height": 740})
    run_from_the_model_page(page, live_server, model)
    run = Run.objects.get(model=model)
    assert (run.state, run.reference_state, run.inputs_done) == ("completed", "done", INPUTS)

    # The same run, read again in each language at each width.
    for language in ("en", "zh-hant"):
        use_language(page, live_server, language)
        page.reload()
        for width, height in ((360, 740), (1280, 800)):
            page.set_viewport_size({"width": width, "height": height})
            page.shot(f"run-done-{language}-{width}")
            read_the_run(page, language)
            assert no_sideways_scroll(page), (language, width)
