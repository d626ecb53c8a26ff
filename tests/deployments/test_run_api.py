"""Runs through the API: made by the user, run by the agent's reports, compared with the
original ONNX by the background worker (in process here), with figures that equal
numpy's computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from visiona_client.run_figures import compare, latency_summary

from deployments.models import Run
from tests.deployments.run_support import (
    IMAGES,
    device_outputs,
    float_outputs,
    installed_model,
    npz,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(alice, alice_device):
    model, built, nef = installed_model(alice, alice_device.device)
    return model, built, nef


def create(client, model, device, files=None, **fields):
    files = (
        files
        if files is not None
        else [
            SimpleUploadedFile(f"img{i}.png", data, "image/png")
            for i, data in enumerate(IMAGES[:3])
        ]
    )
    body = {"model_id": model.pk, "device_id": str(device.pk), "repeat": 5, **fields}
    body["inputs"] = files
    return client.post("/api/runs", body)


def agent_runs_all_inputs(agent, run_id, nef, timings="1.5,1.25,2.0,1.0,1.75"):
    work = agent.get("/api/agent/runs").json()["runs"]
    [item] = [run for run in work if run["id"] == run_id]
    assert (
        agent.post(
            f"/api/agent/runs/{run_id}/state", {"state": "running"}, format="json"
        ).status_code
        == 200
    )
    for entry in item["inputs"]:
        image = b"".join(
            agent.get(f"/api/agent/runs/{run_id}/inputs/{entry['index']}").streaming_content
        )
        answer = agent.generic(
            "POST",
            f"/api/agent/runs/{run_id}/inputs/{entry['index']}/result",
            device_outputs(nef, image),
            content_type="application/x-npz",
            HTTP_X_INFERENCE_TIMINGS_MS=timings,
            HTTP_X_INFERENCE_RUNTIME="demo, CPU",
        )
        assert answer.status_code == 200, answer.content
    return agent.post(f"/api/agent/runs/{run_id}/state", {"state": "completed"}, format="json")


def test_a_run_end_to_end_with_figures_equal_to_numpys(
    alice_client, alice_device, agent_client, setup, django_capture_on_commit_callbacks
):
    model, built, nef = setup
    response = create(alice_client, model, alice_device.device)
    assert response.status_code == 201, response.content
    run = response.json()
    assert (run["state"], run["inputs_count"], run["options"]["repeat"]) == ("pending", 3, 5)
    agent = agent_client(alice_device.token)
    with django_capture_on_commit_callbacks(execute=True):
        completed = agent_runs_all_inputs(agent, run["id"], nef)
    assert completed.json()["state"] == "completed"
    detail = alice_client.get(f"/api/runs/{run['id']}").json()
    assert detail["runtime"] == "demo, CPU"
    assert detail["latency"] == pytest.approx(latency_summary([1.5, 1.25, 2.0, 1.0, 1.75] * 3))
    assert detail["reference"]["state"] == "done"
    # The agreement equals numpy's, computed here from the float model and the outputs.
    each = [
        compare(float_outputs(built, image), npz(device_outputs(nef, image))["logits"])
        for image in IMAGES[:3]
    ]
    assert detail["agreement"]["cosine"] == pytest.approx(min(f["cosine"] for f in each))
    assert detail["agreement"]["max_abs"] == pytest.approx(max(f["max_abs"] for f in each))
    assert detail["agreement"]["mean_abs"] == pytest.approx(np.mean([f["mean_abs"] for f in each]))
    assert 0.99 < detail["agreement"]["cosine"] < 1.0
    inputs = alice_client.get(f"/api/runs/{run['id']}/inputs").json()["inputs"]
    assert inputs[0]["agreement"]["logits"]["cosine"] == pytest.approx(each[0]["cosine"])
    output = alice_client.get(inputs[0]["output_url"])
    assert npz(b"".join(output.streaming_content))["logits"].shape == (1, 10)
    archive = b"".join(alice_client.get(f"/api/runs/{run['id']}/outputs").streaming_content)
    import io
    import zipfile

    assert len(zipfile.ZipFile(io.BytesIO(archive)).namelist()) == 3


def test_without_a_reference_there_is_latency_only(
    alice, alice_client, alice_device, agent_client, django_capture_on_commit_callbacks
):
    model, _, nef = installed_model(alice, alice_device.device, reference=False, name="bare")
    run = create(alice_client, model, alice_device.device).json()
    with django_capture_on_commit_callbacks(execute=True):
        agent_runs_all_inputs(agent_client(alice_device.token), run["id"], nef)
    detail = alice_client.get(f"/api/runs/{run['id']}").json()
    assert detail["latency"]["count"] == 15
    assert (detail["agreement"], detail["reference"]["state"]) == (None, "none")


def test_an_input_the_device_refuses_is_that_inputs_error(
    alice_client, alice_device, agent_client, setup
):
    model, _, _ = setup
    run = create(alice_client, model, alice_device.device).json()
    agent = agent_client(alice_device.token)
    answer = agent.generic(
        "POST",
        f"/api/agent/runs/{run['id']}/inputs/1/result",
        b'{"error": {"code": "invalid_input", "message": "not a readable image"}}',
        content_type="application/json",
    )
    assert answer.json() == {"index": 1, "state": "failed"}
    inputs = alice_client.get(f"/api/runs/{run['id']}/inputs").json()["inputs"]
    assert (inputs[1]["error_code"], inputs[1]["error_message"]) == (
        "invalid_input",
        "not a readable image",
    )
    assert alice_client.get(f"/api/runs/{run['id']}").json()["state"] == "running"


def test_a_cancelled_run_stops_the_agent(alice_client, alice_device, agent_client, setup):
    model, _, _ = setup
    run = create(alice_client, model, alice_device.device).json()
    assert alice_client.post(f"/api/runs/{run['id']}/cancel").json()["state"] == "cancelled"
    agent = agent_client(alice_device.token)
    refused = agent.post(f"/api/agent/runs/{run['id']}/state", {"state": "running"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "run_cancelled")
    assert agent.get("/api/agent/runs").json() == {"runs": []}
    assert alice_client.post(f"/api/runs/{run['id']}/cancel").status_code == 409


def test_a_model_not_installed_on_the_device_is_refused(
    alice, alice_client, alice_device, make_model
):
    model = make_model(alice, "elsewhere", chips=("KL720",))
    response = create(alice_client, model, alice_device.device)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "model_not_installed")
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "“Tiny” is built for KL520, KL630; Bench KL720 has a KL720. Nothing was run."),
        ("zh-hant", "「Tiny」適用於 KL520, KL630；Bench KL720 是 KL720。未執行任何輸入。"),  # noqa: RUF001
    ],
)
def test_a_model_for_another_chip_is_refused_naming_both_chips(
    alice, alice_client, alice_device, make_model, language, words
):
    # A run's own words: not a deployment's "Nothing was deployed".
    model = make_model(alice, "Tiny", chips=("KL520", "KL630"))
    body = {"model_id": model.pk, "device_id": str(alice_device.device.pk)}
    body["inputs"] = [SimpleUploadedFile("a.png", IMAGES[0], "image/png")]
    response = alice_client.post("/api/runs", body, HTTP_ACCEPT_LANGUAGE=language)
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["message"]) == (400, "chip_mismatch", words)
    assert error["details"]["chips"] == ["KL520", "KL630"]
    assert error["details"]["devices"][0]["chip"] == "KL720"
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ([], 400),
        ([SimpleUploadedFile("notes.txt", b"hello", "text/plain")], 400),
        ([SimpleUploadedFile("empty.png", b"", "image/png")], 400),
        ([SimpleUploadedFile("notes.png", b"my notes, not a picture", "image/png")], 400),
        ([SimpleUploadedFile("x.npy", b"PK\x03\x04 a zip, not a tensor", "")], 400),
    ],
)
def test_bad_inputs_are_refused_and_nothing_is_made(
    alice_client, alice_device, setup, files, status
):
    model, _, _ = setup
    response = create(alice_client, model, alice_device.device, files=files)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "validation_failed"
    assert Run.objects.count() == 0


def test_an_input_named_like_an_image_that_is_none_is_refused_before_any_is_stored(
    alice_client, alice_device, setup, models_folder
):
    model, _, _ = setup
    files = [
        SimpleUploadedFile("good.png", IMAGES[0], "image/png"),
        SimpleUploadedFile("notes.png", b"my notes, not a picture", "image/png"),
    ]
    response = create(alice_client, model, alice_device.device, files=files)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"] == [
        {
            "field": "inputs",
            "message": "notes.png is not an image (PNG, JPEG, BMP), a .npy or a .npz.",
        }
    ]
    assert Run.objects.count() == 0
    assert not (models_folder / "runs").exists() or not any((models_folder / "runs").rglob("*"))


def test_an_input_over_the_limit_is_a_413(
    alice_client, alice_device, setup, settings, models_folder
):
    settings.RUNS_MAX_INPUT_BYTES = 100
    model, _, _ = setup
    response = create(alice_client, model, alice_device.device)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["message"] == "img0.png is larger than 100\xa0bytes."
    assert error["details"] == {"limit_bytes": 100, "input": "img0.png"}
    assert Run.objects.count() == 0
    assert not (models_folder / "runs").exists() or not any(
        (models_folder / "runs").rglob("*/inputs/*")
    )


def test_inputs_over_the_total_are_a_413_that_says_so(alice_client, alice_device, setup, settings):
    settings.RUNS_MAX_TOTAL_BYTES = 2 * 1024 * 1024
    model, _, _ = setup
    files = [
        SimpleUploadedFile(f"big{i}.png", IMAGES[0] + bytes(1024 * 1024), "image/png")
        for i in range(2)
    ]
    response = create(alice_client, model, alice_device.device, files=files)
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "The inputs come to more than 2\xa0MB in all."
    assert Run.objects.count() == 0


def test_access(
    alice_client, bob_client, alice_device, agent_client, setup, alice, issue_code, pair
):
    model, _, _ = setup
    run = create(alice_client, model, alice_device.device).json()
    for path in (f"/api/runs/{run['id']}", f"/api/runs/{run['id']}/inputs", f"/runs/{run['id']}/"):
        assert bob_client.get(path).status_code == 404
        assert Client().get(path).status_code in (401, 302)
    assert bob_client.post(f"/api/runs/{run['id']}/cancel").status_code == 404
    other = pair(issue_code(alice).code, serial="ALICE-0002")
    assert agent_client(other.token).get(f"/api/agent/runs/{run['id']}/inputs/0").status_code == 404
    assert create(bob_client, model, alice_device.device).status_code == 404


def test_unpairing_the_device_cancels_its_unfinished_runs(alice_client, alice_device, setup):
    from devices import services as device_services

    model, _, _ = setup
    run = create(alice_client, model, alice_device.device).json()
    device_services.device_unpair(device=alice_device.device)
    assert Run.objects.get(pk=run["id"]).state == "cancelled"


def test_the_list_filters_by_state(alice_client, alice_device, setup):
    model, _, _ = setup
    pending = create(alice_client, model, alice_device.device).json()
    cancelled = create(alice_client, model, alice_device.device).json()
    alice_client.post(f"/api/runs/{cancelled['id']}/cancel")

    def listed(query: str) -> list[str]:
        response = alice_client.get(f"/api/runs?{query}")
        assert response.status_code == 200, response.content
        return [run["id"] for run in response.json()["results"]]

    assert listed("state=pending") == [pending["id"]]
    assert listed("state=cancelled") == [cancelled["id"]]
    assert listed("state=completed") == []
    assert listed("state=") == [cancelled["id"], pending["id"]]  # empty: any, as a form sends
    for bogus in ("bogus", "PENDING", "pending,cancelled"):
        response = alice_client.get(f"/api/runs?state={bogus}")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [field["field"] for field in error["details"]["fields"]] == ["state"]


def test_a_long_input_name_is_kept_within_its_column_and_the_zip_within_a_file_system(
    alice_client, alice_device, agent_client, setup, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    model, _, nef = setup
    name = "長い名前の画像" * 40 + ".png"  # 280 characters, 844 bytes of UTF-8
    files = [SimpleUploadedFile(name, IMAGES[0], "image/png")]
    run = create(alice_client, model, alice_device.device, files=files).json()
    [item] = alice_client.get(f"/api/runs/{run['id']}/inputs").json()["inputs"]
    assert item["name"].endswith(".png") and len(item["name"]) <= 255
    assert name.startswith(item["name"][:-4])
    with django_capture_on_commit_callbacks(execute=True):
        agent_runs_all_inputs(agent_client(alice_device.token), run["id"], nef)
    archive = b"".join(alice_client.get(f"/api/runs/{run['id']}/outputs").streaming_content)
    [member] = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert member.startswith("000-長い") and member.endswith(".npz")
    assert len(member.encode()) <= 255
