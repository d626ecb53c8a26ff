"""The demo device installed without its ``demo`` extra (no onnxruntime, numpy or
Pillow) answers 501 ``runtime_missing`` naming the extra, as docs/agent.md says, for
both the model's description and an inference: never a dropped connection."""

from __future__ import annotations

import sys

import pytest
import requests
from visiona_client.demo_device import DemoDevice

from tests import onnx_models

RUNTIME_MODULES = ("numpy", "onnxruntime", "PIL")


@pytest.fixture
def demo_without_the_extra(tmp_path, monkeypatch):
    images = onnx_models.png_images(2)
    nef = onnx_models.stand_in_nef(onnx_models.classifier(seed=1), images)
    onnx_models.install(tmp_path / "models", "classifier", nef)
    # As if never installed: an import of any of them fails, even one imported before.
    for name in RUNTIME_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "visiona_client.tensors", raising=False)
    with DemoDevice(models_dir=tmp_path / "models") as device:
        yield device, images[0]


def assert_runtime_missing(response):
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "runtime_missing"
    assert "visiona-client[demo]" in error["message"]


def test_an_inference_says_the_demo_extra_is_missing(demo_without_the_extra):
    device, image = demo_without_the_extra
    response = requests.post(
        f"{device.url}/api/models/classifier/infer",
        data=image,
        headers={"Content-Type": "image/png"},
        timeout=30,
    )
    assert_runtime_missing(response)


def test_the_models_description_says_the_demo_extra_is_missing(demo_without_the_extra):
    device, _ = demo_without_the_extra
    assert_runtime_missing(requests.get(f"{device.url}/api/models/classifier", timeout=30))
