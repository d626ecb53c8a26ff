"""Builds the sample model and its calibration images in ``static/samples/``.

    .venv/bin/python sandbox/samples/build_sample.py     (after `make install-dev`)

The outputs are committed, so `make run` needs neither this script nor the ``onnx``
package; run it again only to change the sample (the output is byte-for-byte the same
on every run: no randomness, no timestamps).

The model is a real ONNX classifier small enough to read (about 6 KB of weights) whose
weights are written out by hand rather than trained, so what it answers is explainable:

    image  float32 [1, 3, 64, 64]   RGB, channels first, values 0..1
    Conv 3x3 (8 filters: red, green, blue, bright, dark, horizontal, vertical and
         diagonal edges) -> Relu -> MaxPool 2x2
    Conv 3x3 (16: each feature as it is, and blurred over its neighbours) -> Relu
         -> MaxPool 2x2
    Conv 1x1 (10 classes, one per feature mix) -> GlobalAveragePool
    logits float32 [1, 10, 1, 1]     the ten classes of labels.txt, in order

Every operator runs on the NPU of every chip in Kneron's table (KL520 included: no
Flatten, Reshape or Softmax, which the KL520 runs on its CPU), so the pre-flight has
nothing to say about it for any chip. The logits stay four-dimensional, as a Kneron
chip returns them; top-1 / top-5 read them flattened.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parents[2] / "static" / "samples"
MODEL_NAME = "sample-classifier.onnx"
SIZE = 64
LABELS = (
    "red",
    "green",
    "blue",
    "bright",
    "dark",
    "horizontal stripes",
    "vertical stripes",
    "diagonal stripes",
    "colourful",
    "grey",
)

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_FLAT = np.full((3, 3), 1 / 9, dtype=np.float32)
_SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float32) / 4
_SOBEL_X = _SOBEL_Y.T.copy()
_DIAGONAL = np.array([[2, 1, 0], [1, 0, -1], [0, -1, -2]], dtype=np.float32) / 4


def first_layer() -> tuple[np.ndarray, np.ndarray]:
    """Eight 3x3 filters on RGB: a colour (or brightness) times a spatial pattern."""
    colour = {
        "red": np.array([1.0, -0.5, -0.5]),
        "green": np.array([-0.5, 1.0, -0.5]),
        "blue": np.array([-0.5, -0.5, 1.0]),
        "luma": _LUMA,
    }
    filters = [
        np.einsum("c,hw->chw", colour["red"], _FLAT),
        np.einsum("c,hw->chw", colour["green"], _FLAT),
        np.einsum("c,hw->chw", colour["blue"], _FLAT),
        np.einsum("c,hw->chw", colour["luma"], _FLAT),
        np.einsum("c,hw->chw", -colour["luma"], _FLAT),  # dark: 1 - brightness
        np.einsum("c,hw->chw", colour["luma"], _SOBEL_Y),
        np.einsum("c,hw->chw", colour["luma"], _SOBEL_X),
        np.einsum("c,hw->chw", colour["luma"], _DIAGONAL),
    ]
    bias = np.array([0, 0, 0, -0.5, 0.5, 0, 0, 0], dtype=np.float32)
    # Edges answer both ways (light to dark and back): Relu keeps one, so double it.
    weights = np.stack(filters).astype(np.float32)
    weights[5:] *= 2
    return weights, bias


def second_layer() -> tuple[np.ndarray, np.ndarray]:
    """Sixteen 3x3 filters on the eight features: each as it is (the centre tap),
    then each averaged over its 3x3 neighbourhood."""
    weights = np.zeros((16, 8, 3, 3), dtype=np.float32)
    for feature in range(8):
        weights[feature, feature, 1, 1] = 1.0
        weights[8 + feature, feature] = _FLAT
    return weights, np.zeros(16, dtype=np.float32)


def class_layer() -> tuple[np.ndarray, np.ndarray]:
    """Ten classes, each a mix of the sixteen features (1x1 conv)."""
    # Columns: the eight features, as they are (0-7) and blurred (8-15).
    red, green, blue, bright, dark, horizontal, vertical, diagonal = range(8)
    mix = np.full((10, 16), -0.1, dtype=np.float32)

    def wants(label: int, *features: int, weight: float = 1.0) -> None:
        for feature in features:
            mix[label, feature] = weight
            mix[label, 8 + feature] = weight

    wants(0, red, weight=2.0)
    wants(1, green, weight=2.0)
    wants(2, blue, weight=2.0)
    wants(3, bright)
    wants(4, dark)
    wants(5, horizontal, weight=1.5)
    wants(6, vertical, weight=1.5)
    wants(7, diagonal, weight=1.2)
    # A diagonal edge stirs both straight detectors too: each straight class holds
    # the other direction against itself, the diagonal class takes both.
    mix[5, [vertical, 8 + vertical]] = -0.8
    mix[6, [horizontal, 8 + horizontal]] = -0.8
    mix[7, [horizontal, vertical, 8 + horizontal, 8 + vertical]] = 0.15
    wants(8, red, green, blue, weight=1.0)
    mix[8, [red, green, blue]] = 0.8
    # Grey: neither bright nor dark, no colour, no edges.
    mix[9] = -0.6
    bias = np.zeros(10, dtype=np.float32)
    bias[9] = 0.7
    return mix.reshape(10, 16, 1, 1), bias


def model() -> onnx.ModelProto:
    conv1, bias1 = first_layer()
    conv2, bias2 = second_layer()
    conv3, bias3 = class_layer()
    initializers = [
        numpy_helper.from_array(array, name)
        for name, array in (
            ("conv1.weight", conv1),
            ("conv1.bias", bias1),
            ("conv2.weight", conv2),
            ("conv2.bias", bias2),
            ("classes.weight", conv3),
            ("classes.bias", bias3),
        )
    ]
    same: dict[str, Any] = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    pool: dict[str, Any] = {"kernel_shape": [2, 2], "strides": [2, 2]}
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], **same),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], **pool),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], **same),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], **pool),
        helper.make_node(
            "Conv", ["p2", "classes.weight", "classes.bias"], ["c3"], kernel_shape=[1, 1]
        ),
        helper.make_node("GlobalAveragePool", ["c3"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "visiona-sample-classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, len(LABELS), 1, 1])],
        initializers,
    )
    built = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="visiona-sample",
        doc_string="visionA's sample classifier: hand-set weights, ten classes (labels.txt).",
    )
    built.ir_version = 8  # opset 13's IR: readable by older runtimes and toolchains
    onnx.checker.check_model(built, full_check=True)
    return built


# The calibration images: 64x64 RGB, one per class the model tells apart.
def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's row (y) and column (x)."""
    grid = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return grid[0], grid[1]


def images() -> dict[str, np.ndarray]:
    """name -> uint8 [64, 64, 3]."""
    y, x = _grid()
    centre = (SIZE - 1) / 2
    disc = (x - centre) ** 2 + (y - centre) ** 2 <= (SIZE * 0.38) ** 2
    square = (np.abs(x - centre) < SIZE * 0.33) & (np.abs(y - centre) < SIZE * 0.33)
    triangle = (y > SIZE * 0.15) & (np.abs(x - centre) < (y - SIZE * 0.15) * 0.6)

    def on_white(mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
        picture = np.full((SIZE, SIZE, 3), 255, dtype=np.float32)
        picture[mask] = colour
        return picture

    hue = x / (SIZE - 1)
    rainbow = np.stack(
        [
            np.clip(np.abs(hue * 6 - 3) - 1, 0, 1),
            np.clip(2 - np.abs(hue * 6 - 2), 0, 1),
            np.clip(2 - np.abs(hue * 6 - 4), 0, 1),
        ],
        axis=-1,
    )
    pictures = {
        "red-disc": on_white(disc, (220, 30, 30)),
        "green-square": on_white(square, (30, 180, 60)),
        "blue-triangle": on_white(triangle, (40, 70, 220)),
        "white-sky": np.stack([235 + 15 * (1 - y / SIZE)] * 3, axis=-1),
        "night": np.stack([10 + 20 * (x / SIZE), 10 + 10 * (y / SIZE), 30 + 0 * x], axis=-1),
        "horizontal-stripes": np.stack([((y // 4) % 2) * 255] * 3, axis=-1),
        "vertical-stripes": np.stack([((x // 4) % 2) * 255] * 3, axis=-1),
        "diagonal-stripes": np.stack([(((x + y) // 6) % 2) * 255] * 3, axis=-1),
        "rainbow": rainbow * 255,
        "grey-card": np.full((SIZE, SIZE, 3), 128, dtype=np.float32),
    }
    return {name: np.clip(p, 0, 255).round().astype(np.uint8) for name, p in pictures.items()}


def png(picture: np.ndarray) -> bytes:
    """An 8-bit RGB PNG, written by hand: the sample needs no imaging package."""
    height, width, _ = picture.shape
    rows = b"".join(b"\x00" + picture[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def as_input(picture: np.ndarray) -> np.ndarray:
    """What the model takes: [1, 3, 64, 64] float32, values 0..1."""
    return (picture.astype(np.float32) / 255).transpose(2, 0, 1)[None]


def main() -> int:
    calibration = OUT / "calibration"
    calibration.mkdir(parents=True, exist_ok=True)
    built = model()
    (OUT / MODEL_NAME).write_bytes(built.SerializeToString())
    (OUT / "labels.txt").write_text("".join(f"{label}\n" for label in LABELS))
    for name, picture in images().items():
        (calibration / f"{name}.png").write_bytes(png(picture))
    # Each image's top-1, as the ONNX reference runtime computes it.
    from onnx.reference import ReferenceEvaluator

    session = ReferenceEvaluator(built)
    for name, picture in images().items():
        (logits,) = session.run(None, {"image": as_input(picture)})
        print(f"{name:20} -> {LABELS[int(np.argmax(logits))]}")
    print(f"wrote {OUT / MODEL_NAME} ({(OUT / MODEL_NAME).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
