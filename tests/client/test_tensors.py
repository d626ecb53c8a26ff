"""The contract's default image preprocessing, and tensors checked against a model's inputs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from visiona_client.inference_contract import ContractError, InferOptions
from visiona_client.tensors import TensorSpec, image_to_tensor, inputs_from_body, read_npz


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


# A 2x2 image already at the model's size: no resize, so the figures are exact.
PIXELS = np.array(
    [[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]],
    dtype=np.uint8,
)
NCHW = TensorSpec("x", (1, 3, 2, 2), np.float32)
NHWC = TensorSpec("x", (None, 2, 2, 3), np.float32)


def test_unit_scale_rgb_nchw_by_default():
    tensor = image_to_tensor(png(PIXELS), NCHW, InferOptions())
    assert tensor.shape == (1, 3, 2, 2) and tensor.dtype == np.float32
    expected = PIXELS.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    np.testing.assert_array_equal(tensor, expected)


def test_bgr_signed_nhwc():
    tensor = image_to_tensor(png(PIXELS), NHWC, InferOptions(channel_order="bgr", scale="signed"))
    expected = PIXELS[:, :, ::-1].astype(np.float32)[None] / 127.5 - 1.0
    np.testing.assert_allclose(tensor, expected, rtol=1e-6)


def test_byte_scale_into_a_uint8_input():
    spec = TensorSpec("x", (1, 3, 2, 2), np.uint8)
    tensor = image_to_tensor(png(PIXELS), spec, InferOptions(scale="byte"))
    assert tensor.dtype == np.uint8
    np.testing.assert_array_equal(tensor[0], PIXELS.transpose(2, 0, 1))


def test_it_resizes_to_the_input_ignoring_the_aspect_ratio():
    wide = np.zeros((10, 40, 3), dtype=np.uint8)
    tensor = image_to_tensor(png(wide), TensorSpec("x", (1, 3, 8, 8), np.float32), InferOptions())
    assert tensor.shape == (1, 3, 8, 8)


@pytest.mark.parametrize(
    "spec",
    [
        TensorSpec("x", (1, 3, None, None), np.float32),  # nothing to resize to
        TensorSpec("x", (1, 100), np.float32),  # not an image's shape
    ],
)
def test_an_image_that_cannot_fill_the_input_is_refused(spec):
    with pytest.raises(ContractError) as refused:
        image_to_tensor(png(PIXELS), spec, InferOptions())
    assert refused.value.status == 400 and ".npy" in refused.value.message


def test_a_npz_must_name_every_input():
    specs = [TensorSpec("a", (1, 2), np.float32), TensorSpec("b", (1, 2), np.float32)]
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros((1, 2)), c=np.zeros((1, 2)))
    with pytest.raises(ContractError, match="model's inputs are"):
        inputs_from_body(buffer.getvalue(), "application/x-npz", specs, InferOptions())
    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones((1, 2)), b=np.zeros((1, 2)))
    feed = inputs_from_body(buffer.getvalue(), "application/x-npz", specs, InferOptions())
    assert feed["a"].dtype == np.float32 and feed["a"].sum() == 2


def test_an_image_for_a_model_of_two_inputs_is_refused():
    specs = [NCHW, TensorSpec("y", (1, 2), np.float32)]
    with pytest.raises(ContractError, match="2 inputs"):
        inputs_from_body(png(PIXELS), "image/png", specs, InferOptions())


def test_a_pickled_npz_is_not_read():
    buffer = io.BytesIO()
    np.savez(buffer, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        read_npz(buffer.getvalue())
