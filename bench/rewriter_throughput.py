"""How fast the upload rewriter relays a form, and how much memory it holds meanwhile.

    .venv/bin/python bench/rewriter_throughput.py [--mib 480] [--images 20]

The form (one big model part, some images, the text fields) is generated lazily
from one reused random block, so neither this script nor the rewriter ever holds
the whole body. Three timings: reading the body alone through ``iter_stream`` (the
floor), the rewriter fed whole blocks, and both together as in a request. The
last run is repeated under tracemalloc for the peak.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from conversion.upload_stream import iter_stream, rewrite_upload  # noqa: E402

BOUNDARY = "----benchBoundary7MA4YWxkTrZu0gW"
MIB = 1024 * 1024
JPEG_START = b"\xff\xd8\xff"  # how an image begins: the upload proxy checks


def part_head(name: str, filename: str | None = None) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"\r\nContent-Type: application/octet-stream'
    return (head + "\r\n\r\n").encode()


def form(model_mib: int, images: int, image_kib: int) -> Iterator[bytes]:
    # Random bytes contain CRs: the parser must look at each as a possible boundary.
    block = os.urandom(MIB)
    for name, value in (("platform", b"720"), ("model_id", b"32769"), ("version", b"0001")):
        yield part_head(name) + value + b"\r\n"
    yield part_head("model", "big.onnx")
    for _ in range(model_mib):
        yield block
    yield b"\r\n"
    for index in range(images):
        image = JPEG_START + block[3 : image_kib * 1024]
        yield part_head("ref_images", f"{index}.jpg") + image + b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


class LazyStream:
    """A request body's ``read(n)`` over generated pieces (what Django hands the view)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
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


def drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def timed(label: str, total: int, run: Callable[[], int]) -> None:
    start = time.perf_counter()
    sent = run()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {total / MIB / seconds:8.0f} MiB/s  ({seconds:.2f} s, {sent} bytes out)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mib", type=int, default=480, help="model size in MiB (the converter takes 500 at most)"
    )
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--image-kib", type=int, default=512)
    args = parser.parse_args()

    def body() -> Iterator[bytes]:
        return form(args.mib, args.images, args.image_kib)

    length = drain(body())

    def read_only() -> int:
        return drain(iter_stream(LazyStream(body()), expected_length=length))

    def rewrite_only() -> int:
        return drain(rewrite_upload(body(), boundary=BOUNDARY, user_id="bench-user").chunks)

    def end_to_end() -> int:
        chunks = iter_stream(LazyStream(body()), expected_length=length)
        return drain(rewrite_upload(chunks, boundary=BOUNDARY, user_id="bench-user").chunks)

    print(f"form: {length / MIB:.1f} MiB ({args.mib} MiB model, {args.images} images)")
    timed("read (iter_stream) only", length, read_only)
    timed("rewrite only", length, rewrite_only)
    timed("read + rewrite", length, end_to_end)

    tracemalloc.start()
    end_to_end()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory (read + rewrite): {peak / MIB:.2f} MiB")


if __name__ == "__main__":
    main()
