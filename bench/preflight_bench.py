"""The ONNX pre-flight's cost: scan throughput over a 1 GiB model, and the CPU it adds
per GiB to the upload proxy's rewriting (target: at most 5 %).

    PYTHONPATH=client .venv/bin/python bench/preflight_bench.py [--mib 1024] [--pairs 6]

1. Scan alone: a 1 GiB model fed to ``Scanner`` in 1 MiB blocks (generated from one
   reused block, never held whole), then ``scan_file`` on the same model written to a
   temporary file: MiB/s and peak traced memory.
2. Added CPU: the proxy's pipeline (``iter_stream`` + ``rewrite_upload``) over a form
   with a 1 GiB model, without (A) and with (B) the pre-flight observer, in pairs
   alternating the order (A B, B A, ...); CPU seconds (``time.process_time``) per run,
   the median of the per-pair ratios B/A with min and max, and the load average.
   The whole proxy (gunicorn, the upstream request) spends more CPU per GiB than this
   pipeline alone, so the pre-flight's share of it is smaller than the ratio shown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "client"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from visiona_client.preflight import Scanner, scan_file  # noqa: E402

from conversion import limits  # noqa: E402
from conversion.preflight import UploadPreflight  # noqa: E402
from conversion.upload_stream import iter_stream, rewrite_upload  # noqa: E402
from tests.onnx_models import large_model_stream  # noqa: E402

BOUNDARY = "----benchBoundary7MA4YWxkTrZu0gW"
MIB = 1024 * 1024
JPEG_START = b"\xff\xd8\xff"  # how an image begins: the upload proxy checks


def model_pieces(mib: int, block: bytes) -> Iterator[bytes]:
    return large_model_stream(mib * MIB, payload=(block for _ in range(mib)))


def form(mib: int, block: bytes) -> Iterator[bytes]:
    def head(name: str, filename: str | None = None) -> bytes:
        text = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
        if filename:
            text += f'; filename="{filename}"\r\nContent-Type: application/octet-stream'
        return (text + "\r\n\r\n").encode()

    yield head("platform") + b"720\r\n"
    yield head("model", "big.onnx")
    yield from model_pieces(mib, block)
    yield b"\r\n"
    for index in range(10):
        yield head("ref_images", f"{index}.jpg") + JPEG_START + block[3 : 256 * 1024] + b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


class Body:
    """``read(n)`` over generated pieces, as Django's request stream."""

    def __init__(self, pieces) -> None:
        self._pieces = iter(pieces)
        self._pending = b""

    def read(self, size: int) -> bytes:
        collected, have = [self._pending], len(self._pending)
        while have < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            collected.append(piece)
            have += len(piece)
        data = b"".join(collected)
        self._pending = data[size:]
        return data[:size]


def scan_alone(mib: int, block: bytes) -> None:
    total = sum(len(piece) for piece in model_pieces(mib, block))
    tracemalloc.start()
    start = time.perf_counter()
    scanner = Scanner()
    for piece in model_pieces(mib, block):
        scanner.feed(piece)
    summary = scanner.finish()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.is_onnx
    print(f"scan, fed 1 MiB blocks (traced): {seconds:.3f} s, peak traced {peak / 1024:.0f} KiB")
    start = time.process_time()
    scanner = Scanner()
    for piece in model_pieces(mib, block):
        scanner.feed(piece)
    scanner.finish()
    seconds = time.process_time() - start
    print(
        f"scan, fed 1 MiB blocks: {seconds * 1000:.1f} ms CPU for {total / MIB:,.0f} MiB "
        f"({total / MIB / max(seconds, 1e-9):,.0f} MiB/s: the weights are skipped, not read)"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.onnx"
        with path.open("wb") as handle:
            for piece in model_pieces(mib, block):
                handle.write(piece)
        start = time.perf_counter()
        summary = scan_file(path)
        seconds = time.perf_counter() - start
        print(f"scan_file (page cache): {total / MIB / seconds:,.0f} MiB/s ({seconds:.3f} s)")


def proxy_cpu(mib: int, block: bytes, with_preflight: bool) -> float:
    length = sum(len(piece) for piece in form(mib, block))
    checks = UploadPreflight()
    start = time.process_time()
    chunks = iter_stream(Body(form(mib, block)), expected_length=length)
    upload = rewrite_upload(
        chunks,
        boundary=BOUNDARY,
        user_id="bench-user",
        part_observer=checks.observer_for if with_preflight else None,
    )
    for _chunk in upload.chunks:
        pass
    seconds = time.process_time() - start
    if with_preflight:
        assert checks.summary is not None and checks.summary.is_onnx
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=6)
    args = parser.parse_args()
    block = os.urandom(MIB)  # random bytes: the multipart parser looks at every CR
    # The converter takes 500 MB at most; the bench lifts the rewriter's cap to 1 GiB+.
    limits.MAX_MODEL_BYTES = (args.mib + 1) * MIB
    print(f"load average before: {os.getloadavg()}")
    scan_alone(args.mib, block)
    ratios, plain, checked = [], [], []
    for pair in range(args.pairs):
        order = (False, True) if pair % 2 == 0 else (True, False)
        results = {flag: proxy_cpu(args.mib, block, flag) for flag in order}
        plain.append(results[False])
        checked.append(results[True])
        ratios.append(results[True] / results[False])
        print(
            f"pair {pair + 1}: without {results[False]:.3f} s CPU, with {results[True]:.3f} s "
            f"CPU, ratio {ratios[-1]:.3f}"
        )
    gib = args.mib / 1024
    print(
        f"proxy pipeline CPU per GiB: without {statistics.median(plain) / gib:.3f} s, "
        f"with {statistics.median(checked) / gib:.3f} s"
    )
    print(
        f"added CPU: median ratio {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(ratios)} pairs"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
