"""Inputs and outputs as tensors: the contract's default image preprocessing, ``.npy``
and ``.npz`` bodies read and checked against a model's inputs, outputs written as ``.npz``.

Needs numpy (and Pillow for images): the ``visiona-client[validate]`` extra. The agent
alone never imports this module; the demo device, the ``visiona run`` command and
visionA do.

The default preprocessing (docs/agent.md, "Inference"), for a model with one input of
rank 4 whose height and width are fixed:

1. decode the image (PNG, JPEG, BMP; at most ``MAX_IMAGE_PIXELS``), convert to RGB
   (or to grey when the input has one channel);
2. resize to the input's width x height, bilinear, ignoring the aspect ratio;
3. order the channels (``rgb``, or ``bgr``);
4. scale (``unit``: / 255; ``byte``: as is; ``signed``: / 127.5 - 1);
5. lay out as NCHW when the input's second dimension is 1 or 3, else NHWC, with a
   batch of one, in the input's element type.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visiona_client.inference_contract import (
    INPUT_TOO_LARGE,
    INVALID_INPUT,
    MAX_IMAGE_PIXELS,
    MAX_OUTPUT_BYTES,
    NPY_TYPE,
    NPZ_TYPE,
    OUTPUT_TOO_LARGE,
    ContractError,
    InferOptions,
)

# onnxruntime's element type names -> numpy's.
_ELEMENT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model: its name, shape (None for a free dimension)
    and numpy element type."""

    name: str
    shape: tuple[int | None, ...]
    dtype: Any

    @classmethod
    def from_runtime(cls, node: Any) -> TensorSpec:
        """From an onnxruntime ``NodeArg``."""
        shape = tuple(dim if isinstance(dim, int) and dim > 0 else None for dim in node.shape)
        return cls(node.name, shape, _ELEMENT_TYPES.get(node.type, np.float32))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": np.dtype(self.dtype).name,
            "layout": image_layout(self),
        }


def image_layout(spec: TensorSpec) -> str | None:
    """``NCHW`` or ``NHWC`` when an image can fill this input, else None."""
    if len(spec.shape) != 4:
        return None
    if spec.shape[1] in (1, 3):
        return "NCHW"
    if spec.shape[3] in (1, 3):
        return "NHWC"
    return None


def inputs_from_body(
    body: bytes, media_type: str, specs: Sequence[TensorSpec], options: InferOptions
) -> dict[str, np.ndarray]:
    """The model's feed from one request body; ContractError if it does not fit."""
    if media_type == NPY_TYPE:
        if len(specs) != 1:
            raise ContractError(
                400, INVALID_INPUT, f"the model has {len(specs)} inputs: send a .npz naming them"
            )
        return {specs[0].name: _checked(_load_npy(body), specs[0])}
    if media_type == NPZ_TYPE:
        arrays = _load_npz(body)
        names = [spec.name for spec in specs]
        if sorted(arrays) != sorted(names):
            raise ContractError(
                400,
                INVALID_INPUT,
                f"the .npz holds {sorted(arrays)}; the model's inputs are {names}",
            )
        return {spec.name: _checked(arrays[spec.name], spec) for spec in specs}
    if len(specs) != 1:
        raise ContractError(
            400, INVALID_INPUT, f"the model has {len(specs)} inputs: send a .npz, not an image"
        )
    return {specs[0].name: image_to_tensor(body, specs[0], options)}


def image_to_tensor(data: bytes, spec: TensorSpec, options: InferOptions) -> np.ndarray:
    """An encoded image as this input's tensor, by the default preprocessing."""
    from PIL import Image, UnidentifiedImageError

    layout = image_layout(spec)
    if layout is None:
        raise ContractError(
            400,
            INVALID_INPUT,
            f"an image cannot fill the input {spec.name} of shape {_shape_text(spec.shape)}: "
            "send a .npy",
        )
    channels, height, width = (
        (spec.shape[1], spec.shape[2], spec.shape[3])
        if layout == "NCHW"
        else (spec.shape[3], spec.shape[1], spec.shape[2])
    )
    if height is None or width is None:
        raise ContractError(
            400,
            INVALID_INPUT,
            f"the input {spec.name} has no fixed height and width to resize to: send a .npy",
        )
    try:
        opened = Image.open(io.BytesIO(data))
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise ContractError(
                413, INPUT_TOO_LARGE, f"the image has more than {MAX_IMAGE_PIXELS} pixels"
            )
        image = opened.convert("L" if channels == 1 else "RGB")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ContractError(400, INVALID_INPUT, "the body is not a readable image") from None
    pixels = np.asarray(image, dtype=np.float32)
    if channels == 1:
        pixels = pixels[:, :, None]
    elif options.channel_order == "bgr":
        pixels = pixels[:, :, ::-1]
    pixels = scale_pixels(pixels, options.scale)
    if layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels[None], dtype=spec.dtype)


def scale_pixels(pixels: np.ndarray, scale: str) -> np.ndarray:
    if scale == "unit":
        return pixels / 255.0
    if scale == "signed":
        return pixels / 127.5 - 1.0
    return pixels


def outputs_to_npz(outputs: dict[str, np.ndarray]) -> bytes:
    """The outputs, by name, as one ``.npz``; ContractError past the limit."""
    total = sum(array.nbytes for array in outputs.values())
    if total > MAX_OUTPUT_BYTES:
        raise ContractError(
            507, OUTPUT_TOO_LARGE, f"the outputs take {total} bytes, over {MAX_OUTPUT_BYTES}"
        )
    buffer = io.BytesIO()
    np.savez(buffer, **outputs)  # type: ignore[arg-type]  # numpy's stub: allow_pickle
    return buffer.getvalue()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` (no pickles); ValueError if it is not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"not an .npz of arrays: {exc}") from None


def _load_npy(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise ContractError(400, INVALID_INPUT, "the body is not a .npy tensor") from None
    if not isinstance(array, np.ndarray):
        raise ContractError(400, INVALID_INPUT, "the body is not a .npy tensor")
    return array


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        return read_npz(data)
    except ValueError:
        raise ContractError(400, INVALID_INPUT, "the body is not a .npz of tensors") from None


def _checked(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    shape_fits = len(array.shape) == len(spec.shape) and all(
        want is None or want == got for want, got in zip(spec.shape, array.shape)
    )
    if not shape_fits:
        raise ContractError(
            400,
            INVALID_INPUT,
            f"the input {spec.name} takes shape {_shape_text(spec.shape)}, "
            f"not {_shape_text(array.shape)}",
        )
    if not np.can_cast(array.dtype, spec.dtype, casting="same_kind"):
        raise ContractError(
            400,
            INVALID_INPUT,
            f"the input {spec.name} takes {np.dtype(spec.dtype).name}, not {array.dtype.name}",
        )
    return np.ascontiguousarray(array, dtype=spec.dtype)


def _shape_text(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if dim is None else str(dim) for dim in shape) + "]"
