"""Run pages: Run on a device from the model page, a run's figures and charts in both
languages, the history per model and per device."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deployments.models import Run
from tests.deployments.run_support import IMAGES, installed_model
from tests.deployments.test_run_api import agent_runs_all_inputs

pytestmark = pytest.mark.django_db


def page(client, path, language="en"):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def model(alice, alice_device):
    return installed_model(alice, alice_device.device)


def test_the_model_page_links_to_run_on_a_device(alice_client, model):
    html = page(alice_client, f"/models/{model[0].pk}/")
    assert f'href="/runs/new/{model[0].pk}/"' in html and "Run on a device" in html
    assert "Forget the original ONNX" in html  # it keeps its ONNX


def test_the_form_runs_it_on_an_installed_device(alice_client, alice_device, model):
    html = page(alice_client, f"/runs/new/{model[0].pk}/")
    assert f'value="{alice_device.device.pk}"' in html
    response = alice_client.post(
        f"/runs/new/{model[0].pk}/",
        {
            "device_id": str(alice_device.device.pk),
            "inputs": [
                SimpleUploadedFile("a.png", IMAGES[0]),
                SimpleUploadedFile("b.png", IMAGES[1]),
            ],
            "repeat": "4",
        },
    )
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert (run.inputs_count, run.repeat) == (2, 4)


def test_the_form_states_the_limits_it_checks_before_sending(alice_client, model, settings):
    settings.RUNS_MAX_INPUTS = 7
    settings.RUNS_MAX_INPUT_BYTES = 2 * 1024 * 1024
    html = page(alice_client, f"/runs/new/{model[0].pk}/")
    assert "Up to 7 inputs, 2\xa0MB each." in html
    data = json.loads(re.search(r'id="run-new-data"[^>]*>(.*?)</script>', html).group(1))
    assert data["limits"]["maxInputs"] == 7
    assert data["limits"]["starts"]["npy"] == [list(b"\x93NUMPY")]
    assert data["messages"]["tooLarge"] == "%(name)s is larger than 2\xa0MB."
    zh = page(alice_client, f"/runs/new/{model[0].pk}/", language="zh-hant")
    assert "最多 7 個輸入，每個 2\xa0MB。" in zh  # noqa: RUF001


def test_the_form_names_an_input_over_the_limit(alice_client, alice_device, model, settings):
    settings.RUNS_MAX_INPUT_BYTES = 100
    response = alice_client.post(
        f"/runs/new/{model[0].pk}/",
        {
            "device_id": str(alice_device.device.pk),
            "inputs": [SimpleUploadedFile("big.png", IMAGES[0])],
        },
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    assert response.status_code == 413
    assert "big.png 大於 100\xa0位元組。" in response.content.decode()
    assert not Run.objects.exists()


def test_the_form_says_what_is_wrong(alice_client, alice_device, model):
    response = alice_client.post(
        f"/runs/new/{model[0].pk}/",
        {"device_id": str(alice_device.device.pk), "inputs": [SimpleUploadedFile("x.txt", b"x")]},
    )
    assert response.status_code == 400
    assert "is not an image" in response.content.decode()
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            (
                "Latency on the device",
                "Agreement with the original model",
                "Top-1 agreement",
                # Where it ran, the scale and the charts' bars in words, not codes.
                "demo device, CPU (not a Kneron chip)",
                "pixels scaled 0 to 1 (pixel / 255)",
                ": cosine 0.",
            ),
        ),
        (
            "zh-hant",
            (
                "裝置上的延遲",
                "與原始模型的一致性",
                "Top-1 一致率",
                "示範裝置，CPU（不是 Kneron 晶片）",  # noqa: RUF001
                "像素縮放為 0 到 1（像素 / 255）",  # noqa: RUF001
                "：餘弦相似度 0.",  # noqa: RUF001
            ),
        ),
    ],
)
def test_a_completed_run_shows_figures_and_two_charts(
    alice_client,
    alice_device,
    agent_client,
    model,
    language,
    words,
    django_capture_on_commit_callbacks,
):
    from tests.deployments.test_run_api import create

    run = create(alice_client, model[0], alice_device.device).json()
    with django_capture_on_commit_callbacks(execute=True):
        agent_runs_all_inputs(agent_client(alice_device.token), run["id"], model[2])
    html = page(alice_client, f"/runs/{run['id']}/", language)
    for word in words:
        assert word in html
    assert html.count("<svg") == 2 and html.count('class="chart-bar') > 3
    latency_bar = {
        "en": r" ms: \d+ inferences?</title>",
        "zh-hant": r" ms：\d+ 次推論</title>",  # noqa: RUF001
    }
    assert re.search(latency_bar[language], html)
    # The agreement chart's ends are numbered as the inputs' table is.
    assert "<span>#0</span> <span>#2</span>" in html
    assert f'href="/api/runs/{run["id"]}/outputs"' in html
    # No inline script: the charts are SVG drawn here, the data a JSON element.
    assert not re.search(r"<script(?![^>]*(src=|application/json))", html)


def test_history_per_model_and_per_device(alice_client, alice_device, model):
    from tests.deployments.test_run_api import create

    run = create(alice_client, model[0], alice_device.device).json()
    assert f"/runs/{run['id']}/" in page(alice_client, f"/runs/?model={model[0].pk}")
    assert f"/runs/{run['id']}/" in page(alice_client, f"/devices/{alice_device.device.pk}/")
    assert f"/runs/{run['id']}/" not in page(alice_client, "/runs/?model=999999")


def test_another_users_run_and_form_are_not_found(bob_client, model):
    assert bob_client.get(f"/runs/new/{model[0].pk}/").status_code == 404


def test_a_filtered_list_says_what_it_is_filtered_to(alice_client, alice_device, model):
    html = page(alice_client, f"/runs/?model={model[0].pk}")
    assert "<h1>Runs of classifier</h1>" in html
    assert 'href="/runs/">All runs</a>' in html
    assert "No runs of this model yet." in html
    assert f'href="/runs/new/{model[0].pk}/">Run it on a device</a>' in html
    device = alice_device.device
    html = page(alice_client, f"/runs/?device={device.pk}", language="zh-hant")
    assert f"<h1>{device.name} 上的執行紀錄</h1>" in html
    assert 'href="/runs/">所有執行紀錄</a>' in html
    unfiltered = page(alice_client, "/runs/")
    assert "<h1>Runs</h1>" in unfiltered and "All runs" not in unfiltered
    assert 'in <a href="/models/">My models</a>.' in unfiltered


def test_another_users_model_in_the_filter_is_not_named(bob_client, model):
    html = page(bob_client, f"/runs/?model={model[0].pk}")
    assert "classifier" not in html
    assert "<h1>Runs</h1>" in html and "No runs here yet." in html


def test_a_repetition_count_out_of_range_is_said_in_the_pages_language(
    alice_client, alice_device, model
):
    response = alice_client.post(
        f"/runs/new/{model[0].pk}/",
        {
            "device_id": str(alice_device.device.pk),
            "inputs": [SimpleUploadedFile("a.png", IMAGES[0])],
            "repeat": "100000",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "每個輸入的計時重複次數：請輸入 1 到 100 的整數。" in html  # noqa: RUF001
    assert "repeat must be" not in html
    assert not Run.objects.exists()


def test_the_deploy_progress_page_leads_on_to_a_run(alice_client, model):
    html = page(alice_client, f"/devices/deploy/{model[0].pk}/progress/")
    assert f'id="run-after-deploy" href="/runs/new/{model[0].pk}/">Run on a device</a>' in html
