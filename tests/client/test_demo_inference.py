"""The demo device really computes: the stand-in NEF's int8 model, run with onnxruntime
over the inference contract, against the float model computed here."""

from __future__ import annotations

import io

import numpy as np
import onnxruntime
import pytest
import requests
from visiona_client import sandbox_nef
from visiona_client.demo_device import DemoDevice
from visiona_client.inference_contract import (
    MAX_INPUT_BYTES,
    MODEL_SHA256_HEADER,
    NPY_TYPE,
    NPZ_TYPE,
    RUNTIME_HEADER,
    TIMINGS_HEADER,
    InferOptions,
    parse_timings,
)
from visiona_client.tensors import TensorSpec, image_to_tensor, read_npz

from tests import onnx_models

IMAGES = onnx_models.png_images(6)


@pytest.fixture(scope="module")
def model():
    return onnx_models.classifier(seed=1)


@pytest.fixture(scope="module")
def nef(model) -> bytes:
    return onnx_models.stand_in_nef(model, IMAGES)


@pytest.fixture
def demo(tmp_path, nef):
    onnx_models.install(tmp_path / "models", "classifier", nef)
    with DemoDevice(models_dir=tmp_path / "models") as device:
        yield device


def infer(demo, body, content_type="image/png", stem="classifier", **query):
    return requests.post(
        f"{demo.url}/api/models/{stem}/infer",
        data=body,
        headers={"Content-Type": content_type},
        params=query,
        timeout=30,
    )


def float_outputs(model, tensor):
    session = onnxruntime.InferenceSession(
        onnx_models.bytes_of(model), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"x": tensor})[0]


def test_it_runs_an_image_and_answers_outputs_and_the_latency_it_measured(demo, model, nef):
    response = infer(demo, IMAGES[0], repeat=7)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == NPZ_TYPE
    assert response.headers[RUNTIME_HEADER] == "demo, CPU"
    assert response.headers["X-Visiona-Demo"] == "1"
    import hashlib

    assert response.headers[MODEL_SHA256_HEADER] == hashlib.sha256(nef).hexdigest()
    timings = parse_timings(response.headers[TIMINGS_HEADER])
    assert len(timings) == 7 and all(timing > 0 for timing in timings)
    outputs = read_npz(response.content)
    assert list(outputs) == ["logits"] and outputs["logits"].shape == (1, 10)
    # The int8 model's outputs: close to the float model's, not the same.
    spec = TensorSpec("x", (1, 3, 16, 16), np.float32)
    expected = float_outputs(model, image_to_tensor(IMAGES[0], spec, InferOptions()))
    assert not np.array_equal(outputs["logits"], expected)
    np.testing.assert_allclose(outputs["logits"], expected, atol=0.2)


def test_a_npy_tensor_runs_as_it_is(demo, model):
    tensor = np.random.default_rng(5).random((1, 3, 16, 16), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, tensor)
    response = infer(demo, buffer.getvalue(), NPY_TYPE, repeat=1)
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(
        read_npz(response.content)["logits"], float_outputs(model, tensor), atol=0.2
    )


def test_it_describes_the_installed_model(demo):
    body = requests.get(f"{demo.url}/api/models/classifier", timeout=10).json()
    assert body["demo"] is True and body["runnable"] is True
    assert body["inputs"] == [
        {"name": "x", "shape": [1, 3, 16, 16], "dtype": "float32", "layout": "NCHW"}
    ]
    assert body["outputs"][0]["name"] == "logits"
    assert body["quantization"] == {"calibration": "6 images"}


def npy(shape, dtype=np.float32) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(shape, dtype=dtype))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "content_type", "query", "status", "code"),
    [
        (b"not an image", "image/png", {}, 400, "invalid_input"),
        (b"%PDF-1.4", "application/pdf", {}, 415, "unsupported_input"),
        (npy((1, 3, 8, 8)), NPY_TYPE, {}, 400, "invalid_input"),
        (npy((1, 3, 16, 16), np.complex64), NPY_TYPE, {}, 400, "invalid_input"),
        (b"junk", NPY_TYPE, {}, 400, "invalid_input"),
        (b"junk", NPZ_TYPE, {}, 400, "invalid_input"),
        (IMAGES[0], "image/png", {"repeat": "0"}, 400, "invalid_parameter"),
        (IMAGES[0], "image/png", {"repeat": "101"}, 400, "invalid_parameter"),
        (IMAGES[0], "image/png", {"scale": "huge"}, 400, "invalid_parameter"),
    ],
)
def test_bad_inputs_get_clear_errors(demo, body, content_type, query, status, code):
    response = infer(demo, body, content_type, **query)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_the_wrong_shape_is_named(demo):
    error = infer(demo, npy((1, 3, 8, 8)), NPY_TYPE).json()["error"]
    assert "[1, 3, 16, 16]" in error["message"] and "[1, 3, 8, 8]" in error["message"]


def test_an_unknown_model_is_a_404(demo):
    for stem in ("nothing-here", "..%2Fmanifest", "UPPER"):
        response = infer(demo, IMAGES[0], stem=stem)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "model_not_found"


def test_too_large_an_input_is_refused_before_it_is_read(demo):
    response = infer(demo, bytes(MAX_INPUT_BYTES + 1), "image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "input_too_large"


def test_a_real_nef_is_refused_not_faked(tmp_path):
    import zlib

    body = b"KNERON-NEF\x00" + bytes(4096)
    onnx_models.install(tmp_path / "models", "real", body + zlib.crc32(body).to_bytes(4, "big"))
    with DemoDevice(models_dir=tmp_path / "models") as device:
        response = infer(device, IMAGES[0], stem="real")
        described = requests.get(f"{device.url}/api/models/real", timeout=10)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "model_not_runnable" and "real Kneron NEF" in error["message"]
    assert described.status_code == 422


def test_a_stand_in_without_a_model_says_why(tmp_path):
    data = sandbox_nef.build(
        platform="720", job_id="j", model_sha256="ab" * 32, model_missing="too large"
    )
    onnx_models.install(tmp_path / "models", "empty", data)
    with DemoDevice(models_dir=tmp_path / "models") as device:
        response = infer(device, IMAGES[0], stem="empty")
    assert response.status_code == 422
    assert "too large" in response.json()["error"]["message"]


def test_a_replaced_model_is_loaded_again(demo, tmp_path):
    other = onnx_models.stand_in_nef(onnx_models.classifier(seed=2, classes=4), IMAGES[:2])
    assert infer(demo, IMAGES[0], repeat=1).status_code == 200
    onnx_models.install(tmp_path / "models", "classifier", other)
    response = infer(demo, IMAGES[0], repeat=1)
    assert read_npz(response.content)["logits"].shape == (1, 4)
