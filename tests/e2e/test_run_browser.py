"""Run on a device from the model page, in Chromium: a connected demo agent runs the
model's int8 NEF, the run's page fills in by itself (latency, then the agreement the
background worker computed), at 360 px and 1280 px, in English and Traditional Chinese.

Screenshots land in test-artifacts/browser/<test>/.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from django.conf import settings

from deployments import services as deployment_services
from models_repo.choices import ModelSource
from models_repo.reference import model_reference_store
from models_repo.services import model_create_from_stream
from tests import onnx_models
from tests.e2e.deployment_support import wait_state
from tests.e2e.test_deploy_browser import no_sideways_scroll, shots, tab_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SAMPLES = Path(__file__).resolve().parents[2] / "static" / "samples"
WORDS = {
    "en": ("Latency on the device", "Top-1 agreement"),
    "zh-hant": ("裝置上的延遲", "Top-1 一致率"),
}


def sample_model(owner):
    source = (SAMPLES / "sample-classifier.onnx").read_bytes()
    images = [p.read_bytes() for p in sorted((SAMPLES / "calibration").glob("*.png"))]
    nef = onnx_models.stand_in_nef(onnx.load_from_string(source), images)
    model = model_create_from_stream(
        owner=owner,
        name="Sample classifier",
        chips=["KL720"],
        source=ModelSource.CONVERTED,
        filename="sample.nef",
        chunks=[nef],
    )
    return model_reference_store(model=model, filename="sample.onnx", chunks=[source])


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_run_from_the_model_page_and_read_the_figures(
    page, live_server, connected_agent, alice, language
):
    model = sample_model(alice)
    [result] = deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[connected_agent.device_id]
    )
    assert wait_state(str(result.deployment.pk), "installed", "failed").state == "installed"
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto(f"{live_server.url}/models/{model.pk}/")
    tab_to(page, f"a[href='/runs/new/{model.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/new/{model.pk}/")
    assert no_sideways_scroll(page)
    images = sorted((SAMPLES / "calibration").glob("*.png"))[:4]
    page.set_input_files("#run-inputs", [str(path) for path in images])
    shots(page, "run-new")
    tab_to(page, "#run-submit")
    page.keyboard.press("Enter")
    page.wait_for_url("**/runs/*/")

    # The page reloads itself as the device runs the inputs and the worker compares them.
    page.wait_for_selector("#run-agreement", timeout=90_000)
    text = page.inner_text("main")
    for word in WORDS[language]:
        assert word in text
    assert "demo, CPU" in text
    assert page.locator("svg").count() == 2
    assert page.locator("#run-inputs tbody tr").count() == 4
    assert no_sideways_scroll(page)
    shots(page, "run-done")
