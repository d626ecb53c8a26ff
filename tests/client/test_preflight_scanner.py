"""The streaming ONNX scan against onnx's own reading of the same bytes, whatever the
chunk sizes (1 byte, 7 bytes, random), and on files that are not ONNX at all."""

from __future__ import annotations

import os
import random
from collections import Counter

import onnx
import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto
from visiona_client.preflight import Scanner, scan_file

from tests import onnx_models as om


def scan_in_chunks(data: bytes, sizes) -> object:
    scanner = Scanner()
    position = 0
    sizes = iter(sizes)
    while position < len(data):
        size = next(sizes)
        scanner.feed(data[position : position + size])
        position += size
    return scanner.finish()


def fixed(size: int):
    while True:
        yield size


def randomly(seed: int, largest: int = 5000):
    rng = random.Random(seed)
    while True:
        yield rng.randint(1, largest)


def onnx_reading(data: bytes) -> dict:
    """What onnx itself reads from the bytes, in the summary's terms."""
    parsed = onnx.load_from_string(data)
    graph = parsed.graph
    names = {tensor.name for tensor in graph.initializer}
    names |= {sparse.values.name for sparse in graph.sparse_initializer}

    def value(info):
        tensor_type = info.type.tensor_type
        shape = None
        if tensor_type.HasField("shape"):
            shape = tuple(
                dim.dim_value if dim.HasField("dim_value") else None
                for dim in tensor_type.shape.dim
            )
        return (info.name, tensor_type.elem_type, shape)

    def subgraph_ops(nodes):
        found = Counter()
        for node in nodes:
            for attribute in node.attribute:
                for sub in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                    found.update((n.op_type, n.domain) for n in sub.node)
                    found.update(subgraph_ops(sub.node))
        return found

    def tensors(nodes):
        yield from graph.initializer
        for node in nodes:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t

    return {
        "ir_version": parsed.ir_version,
        "opset_imports": {opset.domain: opset.version for opset in parsed.opset_import},
        "op_counts": Counter((node.op_type, node.domain) for node in graph.node),
        "subgraph_op_counts": subgraph_ops(graph.node),
        "inputs": [value(info) for info in graph.input if info.name not in names],
        "outputs": [value(info) for info in graph.output],
        "initializer_count": len(graph.initializer) + len(graph.sparse_initializer),
        "has_external_data": any(
            tensor.data_location == TensorProto.EXTERNAL for tensor in tensors(graph.node)
        ),
    }


def scanned(summary) -> dict:
    return {
        "ir_version": summary.ir_version,
        "opset_imports": summary.opset_imports,
        "op_counts": Counter(summary.op_counts),
        "subgraph_op_counts": Counter(summary.subgraph_op_counts),
        "inputs": [tuple(value) for value in summary.inputs],
        "outputs": [tuple(value) for value in summary.outputs],
        "initializer_count": summary.initializer_count,
        "has_external_data": summary.has_external_data,
    }


def _unknown_rank():
    built = om.model()
    built.graph.input[0].type.tensor_type.ClearField("shape")
    return built


MODELS = {
    "supported ops": lambda: om.model(("Conv", "Relu", "MaxPool")),
    "unsupported ops": lambda: om.model(("Softmax", "Div", "Abs", "NonZero")),
    "custom domain": lambda: om.model(("MyOp",), domain="com.example"),
    "dynamic shape": lambda: om.model(input_shape=["batch", 3, None, 224]),
    "batch 8": lambda: om.model(input_shape=[8, 3, 32, 32]),
    "unknown rank": _unknown_rank,
    "large initializer": lambda: om.model(weights=3 * 1024 * 1024 // 4 + 17),
    "multiple inputs": lambda: om.model(inputs=3),
    "opset 7": lambda: om.model(opset=7),
    "opset 19": lambda: om.model(opset=19),
    "subgraphs": om.with_subgraph,
    "weights listed as inputs": om.ir3_with_weights_as_inputs,
    "ml domain import": lambda: om.model(extra_opsets={"ai.onnx.ml": 3}),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("chunks", ["whole", "1 byte", "7 bytes", "random"])
def test_the_scan_reads_what_onnx_reads(name, chunks):
    data = om.bytes_of(MODELS[name]())
    sizes = {
        "whole": fixed(len(data)),
        "1 byte": fixed(1),
        "7 bytes": fixed(7),
        "random": randomly(len(data)),
    }[chunks]
    if chunks == "1 byte" and len(data) > 100_000:
        sizes = randomly(1, largest=3)  # a byte at a time over megabytes is only slow
    summary = scan_in_chunks(data, sizes)
    assert summary.is_onnx, summary.not_onnx_reason
    assert summary.size_bytes == len(data)
    assert scanned(summary) == onnx_reading(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(MODELS)),
    sizes=st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=50),
)
def test_any_chunking_gives_the_same_summary(name, sizes):
    data = om.bytes_of(MODELS[name]())
    whole = scan_in_chunks(data, fixed(len(data)))

    def cycle():
        while True:
            yield from sizes

    assert scan_in_chunks(data, cycle()) == whole


def test_a_large_initializer_is_measured_not_kept():
    elements = 2 * 1024 * 1024
    data = om.bytes_of(om.model(weights=elements))
    summary = scan_in_chunks(data, randomly(3, largest=100_000))
    assert summary.weight_elements == elements
    assert summary.weight_bytes == elements * 4


def test_external_data_is_seen(tmp_path):
    path = om.save_with_external_data(om.model(weights=1000), tmp_path)
    summary = scan_file(path, block_size=7)
    assert summary.is_onnx
    assert summary.has_external_data
    assert summary.external_data_locations == ["external.onnx.data"]
    assert scanned(summary) == onnx_reading(path.read_bytes())


def test_a_constant_and_subgraphs_are_counted_apart():
    summary = scan_in_chunks(om.bytes_of(om.with_subgraph()), fixed(5))
    assert summary.op_counts == {("Constant", ""): 1, ("If", ""): 1}
    assert summary.subgraph_op_counts == {("Softmax", ""): 1, ("Tanh", ""): 1}
    assert summary.weight_elements == 1 + 16  # the condition and the Constant's 4x4


def onnx_accepts(data: bytes) -> bool:
    try:
        parsed = onnx.load_from_string(data)
    except (DecodeError, RuntimeError, ValueError):
        return False
    return parsed.HasField("graph") and parsed.ir_version >= 1


LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)


@pytest.mark.parametrize(
    ("data", "lfs"),
    [
        (b"", False),
        (LFS_POINTER, True),
        (b"PK\x03\x04" + os.urandom(2000), False),  # a PyTorch zip
        (b"\x89HDF\r\n\x1a\n" + os.urandom(500), False),  # Keras .h5
        (b"just some text, not a model\n" * 40, False),
        (om.bytes_of(om.model(weights=5000))[:-9], False),  # cut short
        (om.bytes_of(om.model(weights=5000))[:3000], False),  # cut inside the weights
    ],
)
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_not_onnx(data, lfs, chunk):
    summary = scan_in_chunks(data, fixed(chunk)) if data else Scanner().finish()
    assert not summary.is_onnx
    assert summary.not_onnx_reason
    assert summary.lfs_pointer is lfs
    assert not onnx_accepts(data)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), chunk=st.integers(min_value=1, max_value=500))
def test_garbage_never_raises_and_agrees_with_onnx(data, chunk):
    summary = scan_in_chunks(data, fixed(chunk)) if data else Scanner().finish()
    assert summary.size_bytes == len(data)
    if summary.is_onnx:
        assert onnx_accepts(data)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=1, max_value=10_000), chunk=st.integers(1, 300))
def test_a_model_cut_anywhere_is_never_taken_for_the_whole(cut, chunk):
    data = om.bytes_of(om.model(("Conv", "Relu"), weights=2000))
    cut = cut % len(data)
    summary = scan_in_chunks(data[:cut], fixed(chunk)) if cut else Scanner().finish()
    if summary.is_onnx:
        # A cut at a field boundary leaves valid protobuf: onnx reads it the same.
        assert scanned(summary) == onnx_reading(data[:cut])
    else:
        assert summary.not_onnx_reason
