"""Real ONNX models for the pre-flight tests: built with the ``onnx`` package, plus a
hand-encoded one of any size that is generated as a stream (never held whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT


def model(
    ops: list[str] | tuple[str, ...] = ("Relu",),
    *,
    domain: str = "",
    opset: int = 13,
    input_shape: list | None = None,
    inputs: int = 1,
    weights: int = 0,
    ir_version: int | None = None,
    extra_opsets: dict[str, int] | None = None,
) -> onnx.ModelProto:
    """A chain of single-input operators on ``x`` (the other inputs are added to it)."""
    shape = input_shape if input_shape is not None else [1, 3, 8, 8]
    graph_inputs = [helper.make_tensor_value_info("x", FLOAT, shape)]
    nodes, previous = [], "x"
    for index in range(1, inputs):
        name = f"x{index}"
        graph_inputs.append(helper.make_tensor_value_info(name, FLOAT, shape))
        nodes.append(helper.make_node("Add", [previous, name], [f"sum{index}"]))
        previous = f"sum{index}"
    initializers = []
    if weights:
        initializers.append(numpy_helper.from_array(np.arange(weights, dtype=np.float32) % 7, "w"))
    for index, op in enumerate(ops):
        out = "y" if index == len(ops) - 1 else f"t{index}"
        nodes.append(helper.make_node(op, [previous], [out], domain=domain))
        previous = out
    graph = helper.make_graph(
        nodes,
        "g",
        graph_inputs,
        [helper.make_tensor_value_info("y", FLOAT, None)],
        initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    for name, version in (extra_opsets or {}).items():
        opsets.append(helper.make_opsetid(name, version))
    built = helper.make_model(graph, opset_imports=opsets, producer_name="visiona-tests")
    if ir_version is not None:
        built.ir_version = ir_version
    return built


def with_subgraph() -> onnx.ModelProto:
    """An If whose branches hold nodes (Softmax, Tanh) and a Constant with a tensor."""
    x = helper.make_tensor_value_info("x", FLOAT, [1, 4])
    cond = numpy_helper.from_array(np.array(True), "cond")

    def branch(op: str) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"{op}_out", FLOAT, [1, 4])
        return helper.make_graph([helper.make_node(op, ["x"], [f"{op}_out"])], op, [], [out])

    constant = helper.make_node(
        "Constant",
        [],
        ["k"],
        value=numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "k"),
    )
    branches = helper.make_node(
        "If", ["cond"], ["y"], then_branch=branch("Softmax"), else_branch=branch("Tanh")
    )
    graph = helper.make_graph(
        [constant, branches],
        "g",
        [x],
        [helper.make_tensor_value_info("y", FLOAT, [1, 4])],
        [cond],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def ir3_with_weights_as_inputs() -> onnx.ModelProto:
    """An old exporter's model: every initializer is also listed as a graph input."""
    built = model(("Relu",), weights=16, opset=8, ir_version=3)
    built.graph.input.append(helper.make_tensor_value_info("w", FLOAT, [16]))
    return built


def save_with_external_data(built: onnx.ModelProto, folder: Path) -> Path:
    path = folder / "external.onnx"
    onnx.save_model(
        built,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="external.onnx.data",
        size_threshold=0,
    )
    return path


def bytes_of(built: onnx.ModelProto) -> bytes:
    return built.SerializeToString()


def save(built: onnx.ModelProto, path: Path) -> Path:
    """The model as a single .onnx file at ``path``."""
    path.write_bytes(bytes_of(built))
    return path


# --- A model of any size, as a stream --------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_field(1, _int_field(1, dim)) for dim in dims)
    tensor_type = _int_field(1, FLOAT) + _field(2, shape)
    return _field(1, name.encode()) + _field(2, _field(1, tensor_type))


def large_model_stream(
    weight_bytes: int,
    *,
    block: int = 1024 * 1024,
    op: str = "Add",
    payload: Iterable[bytes] | None = None,
) -> Iterator[bytes]:
    """A valid ONNX model (``x + w``, w a uint8 tensor of ``weight_bytes`` bytes),
    generated block by block: one reused block of zeros (or the ``payload`` blocks,
    which must come to ``weight_bytes``), never the whole model."""
    node = _field(1, b"x") + _field(1, b"w") + _field(2, b"y") + _field(4, op.encode())
    tensor_head = _int_field(1, weight_bytes) + _int_field(2, TensorProto.UINT8)
    tensor_head += _field(8, b"w")
    raw_head = _varint(9 << 3 | 2) + _varint(weight_bytes)
    tensor_length = len(tensor_head) + len(raw_head) + weight_bytes
    initializer_head = _varint(5 << 3 | 2) + _varint(tensor_length) + tensor_head + raw_head
    graph_tail = _field(2, b"big") + _field(11, _value_info("x", [1, weight_bytes]))
    graph_tail += _field(12, _value_info("y", [1, weight_bytes]))
    graph_head = _field(1, node)
    graph_length = len(graph_head) + len(initializer_head) + weight_bytes + len(graph_tail)
    yield _int_field(1, 8) + _field(2, b"visiona-bench")
    yield _varint(7 << 3 | 2) + _varint(graph_length) + graph_head + initializer_head
    if payload is not None:
        yield from payload
        yield graph_tail + _field(8, _field(1, b"") + _int_field(2, 13))
        return
    zeros = bytes(block)
    left = weight_bytes
    while left > 0:
        step = min(block, left)
        yield zeros if step == block else zeros[:step]
        left -= step
    yield graph_tail + _field(8, _field(1, b"") + _int_field(2, 13))


def weights_model(weight_bytes: int, fill: bytes | None = None) -> bytes:
    """A small valid model of about ``weight_bytes`` bytes (random weights if ``fill``)."""
    payload = [fill] if fill is not None else None
    return b"".join(large_model_stream(weight_bytes, payload=payload))


def write_large_model(path: Path, weight_bytes: int) -> Path:
    with path.open("wb") as handle:
        for piece in large_model_stream(weight_bytes):
            handle.write(piece)
    return path


# --- Small classifiers that run (the runs' tests) ----------------------------------


def classifier(
    *, seed: int = 0, classes: int = 10, size: int = 16, outlier: float | None = None
) -> onnx.ModelProto:
    """Conv -> Relu -> global average pool -> Gemm: ``x`` [1, 3, size, size] -> ``logits``
    [1, classes], with random weights. ``outlier`` multiplies one channel's
    convolution by that much (a channel the classifier ignores): a model made to
    quantize badly."""
    generator = np.random.default_rng(seed)
    channels = 8
    conv_w = generator.normal(0, 0.5, (channels, 3, 3, 3)).astype(np.float32)
    conv_b = generator.normal(0, 0.1, (channels,)).astype(np.float32)
    gemm_w = generator.normal(0, 1.0, (channels, classes)).astype(np.float32)
    if outlier is not None:
        # One channel of huge activations the logits ignore: int8 activations share one
        # scale per tensor, so the channels that matter are left a few steps each.
        conv_w[0] *= outlier
        gemm_w[0] = 0.0
    gemm_b = generator.normal(0, 0.1, (classes,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "gemm_w", "gemm_b"], ["logits"]),
    ]
    initializers = [
        numpy_helper.from_array(array, name)
        for name, array in (
            ("conv_w", conv_w),
            ("conv_b", conv_b),
            ("gemm_w", gemm_w),
            ("gemm_b", gemm_b),
        )
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", FLOAT, [1, classes])],
        initializers,
    )
    built = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="visiona-tests"
    )
    built.ir_version = 8
    return built


def png_images(count: int, *, size: int = 24, seed: int = 0) -> list[bytes]:
    """Small random RGB PNG images (calibration and run inputs)."""
    import io

    from PIL import Image

    generator = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        pixels = generator.integers(0, 256, (size, size, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
        images.append(buffer.getvalue())
    return images


def quantized(built: onnx.ModelProto, images: list[bytes]) -> bytes:
    """The model quantized to int8 as the sandbox converter does it (onnxruntime's
    static quantization), calibrated on ``images`` by the default preprocessing."""
    import tempfile

    import onnxruntime
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from visiona_client.inference_contract import InferOptions
    from visiona_client.tensors import TensorSpec, image_to_tensor

    with tempfile.TemporaryDirectory() as folder:
        source = save(built, Path(folder) / "float.onnx")
        session = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"])
        spec = TensorSpec.from_runtime(session.get_inputs()[0])
        feeds = [{spec.name: image_to_tensor(data, spec, InferOptions())} for data in images]

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.feeds = iter(feeds)

            def get_next(self):
                return next(self.feeds, None)

        target = Path(folder) / "int8.onnx"
        quantize_static(
            str(source),
            str(target),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
        )
        return target.read_bytes()


def stand_in_nef(built: onnx.ModelProto, images: list[bytes], *, job_id: str = "job-1") -> bytes:
    """A sandbox stand-in NEF carrying the model's int8 version, as promote writes it."""
    from visiona_client import sandbox_nef

    return sandbox_nef.build(
        platform="720",
        job_id=job_id,
        model_sha256="ab" * 32,
        model=quantized(built, images),
        quantization={"calibration": f"{len(images)} images"},
    )


def install(folder: Path, stem: str, data: bytes) -> Path:
    """Put a model file in a models folder as the agent installs it, with its entry."""
    import hashlib
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.nef"
    path.write_bytes(data)
    entries = []
    manifest = folder / "manifest.json"
    if manifest.exists():
        entries = [e for e in json.loads(manifest.read_text()) if e["file"] != path.name]
    entries.append(
        {
            "name": stem,
            "file": path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_bytes": len(data),
            "installed_at": "2026-01-02T03:04:05+00:00",
            "deployment_id": "0b6f7a39-8a3c-4c57-a3a9-4d2f6c1e0d11",
            "model_id": 1,
        }
    )
    manifest.write_text(json.dumps(entries))
    return path
