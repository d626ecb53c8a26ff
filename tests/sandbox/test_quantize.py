"""The stand-in NEF carries a genuinely int8-quantized version of the uploaded model,
calibrated on the uploaded images (onnxruntime's static quantization)."""

from __future__ import annotations

import onnx
import onnxruntime
import pytest
from visiona_client.inference_contract import InferOptions
from visiona_client.run_figures import AgreementTotals, compare
from visiona_client.tensors import TensorSpec, image_to_tensor

from sandbox import nef
from tests import onnx_models

from .conftest import FAA, bearer
from .test_converter_promote import KEY, promote

IMAGES = onnx_models.png_images(4)
PROBES = onnx_models.png_images(8, seed=11)


def job_with(create_job, model: bytes, images=IMAGES, filename="net.onnx") -> str:
    parts = [
        ("user_id", None, b"alice"),
        ("platform", None, b"720"),
        ("model", filename, model),
        *[("ref_images", f"calib{i}.png", image) for i, image in enumerate(images)],
    ]
    response = create_job(parts)
    assert response.status_code == 201, response.content
    return response.json()["job_id"]


def promoted_nef(client, token, job_id) -> bytes:
    assert promote(client, token, job_id, user_id="alice").status_code == 200
    return b"".join(client.get(f"{FAA}/files/{KEY}", **bearer(token)).streaming_content)


def agreement(built, int8: bytes) -> dict:
    float_session = onnxruntime.InferenceSession(onnx_models.bytes_of(built))
    int8_session = onnxruntime.InferenceSession(int8)
    spec = TensorSpec.from_runtime(float_session.get_inputs()[0])
    totals = AgreementTotals()
    for image in PROBES:
        tensor = image_to_tensor(image, spec, InferOptions())
        reference = float_session.run(None, {spec.name: tensor})[0]
        totals.add("logits", compare(reference, int8_session.run(None, {spec.name: tensor})[0]))
    return totals.summary()


def test_the_nef_carries_an_int8_model_calibrated_on_the_images(client, token, create_job):
    built = onnx_models.classifier(seed=3)
    data = promoted_nef(client, token, job_with(create_job, onnx_models.bytes_of(built)))
    header = nef.parse(data)
    assert "not a real NEF" in header["note"]
    assert header["model"]["quantization"]["calibration"].startswith("4 uploaded image(s)")
    int8 = nef.carried_model(data)
    ops = {node.op_type for node in onnx.load_from_string(int8).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    figures = agreement(built, int8)
    # Quantization changes the outputs a little, not much.
    assert 0.99 < figures["cosine"] < 1.0
    assert figures["max_abs"] > 0
    assert figures["top1"] == 1.0


def test_a_model_made_to_quantize_badly_shows_it(client, token, create_job):
    built = onnx_models.classifier(seed=3, outlier=300.0)
    data = promoted_nef(client, token, job_with(create_job, onnx_models.bytes_of(built)))
    figures = agreement(built, nef.carried_model(data))
    assert figures["cosine"] < 0.97


def test_it_quantizes_once_per_job(client, token, create_job):
    job_id = job_with(create_job, onnx_models.bytes_of(onnx_models.classifier()))
    first = promoted_nef(client, token, job_id)
    assert promoted_nef(client, token, job_id) == first


def test_without_images_it_calibrates_on_random_tensors(client, token, create_job):
    job_id = job_with(create_job, onnx_models.bytes_of(onnx_models.classifier()), images=[])
    header = nef.parse(promoted_nef(client, token, job_id))
    assert "random tensors" in header["model"]["quantization"]["calibration"]


@pytest.mark.parametrize(
    ("model", "reason"), [(b"not a model" * 10, "onnxruntime cannot load the model")]
)
def test_a_model_it_cannot_quantize_gets_a_nef_that_says_why(
    client, token, create_job, model, reason
):
    data = promoted_nef(client, token, job_with(create_job, model))
    header = nef.parse(data)
    assert header["model"] is None and reason in header["model_missing"]
    assert nef.carried_model(data) is None


def test_a_model_over_the_limit_is_not_quantized(client, token, create_job, settings):
    settings.SANDBOX_QUANTIZE_MAX_BYTES = 100
    data = promoted_nef(
        client, token, job_with(create_job, onnx_models.bytes_of(onnx_models.classifier()))
    )
    assert "100 bytes" in nef.parse(data)["model_missing"]
