"""How much memory a large model upload costs: it must not grow with the file.

Sends a generated 100 MB NEF (size with --mb) through the real request path,
page and API, as a streamed WSGI body, and prints the growth of the process's
resident memory (sampled from /proc while the request runs, and the kernel's
peak from getrusage) and the peak of Python allocations (tracemalloc). The
check fails (exit 1) when the growth reaches --limit-mb (64 by default).

    .venv/bin/python bench/models_upload_memory.py [--mb 100] [--limit-mb 64]

A benchmark, not a unit test: it writes ~3x the file size to a temporary folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = tempfile.mkdtemp(prefix="visiona-bench-")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "visiona.settings",
        "VISIONA_DATA_DIR": DATA_DIR,
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "MODELS_STORAGE_S3_BUCKET": "",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import ClientHandler, RequestFactory  # noqa: E402

MIB = 1024 * 1024
BOUNDARY = "visiona-bench-boundary"
BLOCK = hashlib.sha256(b"bench").digest() * (64 * 1024 // 32)  # 64 KiB


class MultipartStream:
    """A multipart body made while it is read: the file is never in memory."""

    def __init__(self, size: int, fields: dict[str, str]) -> None:
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.nef"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        self._parts = [head.encode(), None, f"\r\n--{BOUNDARY}--\r\n".encode()]
        self._file_left = size
        self._pending = b""
        self.length = len(self._parts[0]) + size + len(self._parts[2])
        self.sha256 = hashlib.sha256()
        self._crc = 0

    def _next_piece(self) -> bytes:
        while self._parts:
            part = self._parts[0]
            if part is not None:
                self._parts.pop(0)
                return part
            if self._file_left > 4:
                piece = BLOCK[: min(len(BLOCK), self._file_left - 4)]
                self._file_left -= len(piece)
                self._crc = zlib.crc32(piece, self._crc)
                self.sha256.update(piece)
                return piece
            if self._file_left:
                # A NEF ends with the CRC-32 of what came before (My models checks it).
                piece = self._crc.to_bytes(4, "big")[-self._file_left :]
                self._file_left = 0
                self.sha256.update(piece)
                return piece
            self._parts.pop(0)
        return b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            piece = self._next_piece()
            if not piece:
                break
            self._pending += piece
        if size < 0:
            size = len(self._pending)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def readline(self, size: int = -1) -> bytes:  # WSGI asks for it; multipart never calls it
        return self.read(size)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_bytes()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return max(self.peak, rss_bytes())


def post_upload(path: str, size: int, cookie: str, fields: dict[str, str]):
    stream = MultipartStream(size, fields)
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(stream.length),
        HTTP_COOKIE=cookie,
        HTTP_ACCEPT="application/json",
    )
    environ["wsgi.input"] = stream
    # The test client's handler, so CSRF is not in the way; the body is our stream.
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    return response, stream.sha256.hexdigest()


def measure(label: str, run) -> dict:
    tracemalloc.reset_peak()
    sampler = RssSampler()
    before = rss_bytes()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler.start()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    figures = {
        "label": label,
        "seconds": seconds,
        "rss_growth": peak - before,
        "maxrss_growth": maxrss_after - maxrss_before,
        "python_peak": tracemalloc.get_traced_memory()[1],
        "result": result,
    }
    print(
        f"{label:<16} {seconds:6.2f} s   RSS growth {figures['rss_growth'] / MIB:6.1f} MiB"
        f"   ru_maxrss growth {figures['maxrss_growth'] / MIB:6.1f} MiB"
        f"   Python peak {figures['python_peak'] / MIB:6.1f} MiB"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="file size in MiB (default 100)")
    parser.add_argument("--limit-mb", type=int, default=64, help="allowed growth (default 64)")
    args = parser.parse_args()
    size = args.mb * MIB

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from models_repo.models import NefModel

    user = get_user_model().objects.create_user(username="bench", password="x" * 20)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    threshold = settings.FILE_UPLOAD_MAX_MEMORY_SIZE / MIB
    print(f"file {args.mb} MiB, upload limit {settings.MODELS_MAX_UPLOAD_BYTES // MIB} MiB,")
    print(f"uploads past {threshold:.1f} MiB go to a temporary file", flush=True)
    # Warm up: imports, templates, the first connection; then measure.
    post_upload("/api/models/", MIB, cookie, {"chips": "KL520", "name": "warm-up"})
    tracemalloc.start()

    failures = []
    for label, path, name in [
        ("API upload", "/api/models/", "via api"),
        ("page upload", "/models/upload/", "via page"),
    ]:
        fields = {"chips": "KL720", "name": name}
        figures = measure(label, lambda p=path, f=fields: post_upload(p, size, cookie, f))
        response, sent_sha256 = figures["result"]
        model = NefModel.objects.get(name=name)
        if response.status_code not in (201, 302) or model.sha256 != sent_sha256:
            failures.append(f"{label}: status {response.status_code}, checksum mismatch?")
        if model.size_bytes != size:
            failures.append(f"{label}: stored {model.size_bytes} bytes, sent {size}")
        if figures["rss_growth"] >= args.limit_mb * MIB:
            failures.append(f"{label}: memory grew {figures['rss_growth'] / MIB:.1f} MiB")

    model = NefModel.objects.get(name="via api")

    def download() -> str:
        digest = hashlib.sha256()
        response = client.get(f"/api/models/{model.pk}/download")
        for chunk in response.streaming_content:
            digest.update(chunk)
        response.close()
        return digest.hexdigest()

    figures = measure("API download", download)
    if figures["result"] != model.sha256:
        failures.append("download: checksum mismatch")
    if figures["rss_growth"] >= args.limit_mb * MIB:
        failures.append(f"download: memory grew {figures['rss_growth'] / MIB:.1f} MiB")

    for failure in failures:
        print("FAIL", failure)
    print("OK" if not failures else "FAILED", f"(limit {args.limit_mb} MiB)")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        import shutil

        shutil.rmtree(DATA_DIR, ignore_errors=True)
