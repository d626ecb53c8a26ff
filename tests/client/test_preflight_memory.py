"""A 1 GiB model is scanned with flat memory: the weights are skipped, never held."""

from __future__ import annotations

import tracemalloc

from visiona_client.preflight import Scanner, check, scan_file

from tests import onnx_models as om

GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024


def test_a_1_gib_model_fed_in_blocks_keeps_memory_flat():
    stream = om.large_model_stream(GIB)  # one reused block: the model is never whole
    head = [next(stream), next(stream), next(stream)]  # the third is the test's block
    tracemalloc.start()
    try:
        scanner = Scanner()
        for piece in head:
            scanner.feed(piece)
        for piece in stream:
            scanner.feed(piece)
        summary = scanner.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.is_onnx
    assert summary.weight_bytes == GIB and summary.size_bytes > GIB
    assert peak < 256 * 1024, f"peak {peak} bytes"
    assert check(summary, "720").ok


def test_a_1_gib_model_file_is_scanned_in_blocks(tmp_path):
    # Written as a sparse file (the weights are a hole), so the test costs no disk.
    path = tmp_path / "big.onnx"
    stream = om.large_model_stream(GIB)
    head = next(stream) + next(stream)
    *_weights, tail = stream  # the weights' blocks (one reused object), the graph's tail
    with path.open("wb") as handle:
        handle.write(head)
        handle.seek(GIB, 1)
        handle.write(tail)
    tracemalloc.start()
    try:
        summary = scan_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.is_onnx and summary.weight_bytes == GIB
    assert peak < 3 * MIB, f"peak {peak} bytes"  # one 1 MiB read block, and its copy
