"""Benchmark: the upload proxy's memory and speed under gunicorn.

Starts a stand-in converter that reads and discards the body, a gunicorn
(gthread) serving visionA on a temporary SQLite database, then streams an
N MiB multipart upload through POST /api/conversion/init while sampling the
worker's RSS. The proxy must not hold the upload: peak RSS growth should stay
well under 64 MiB whatever N is.

    .venv/bin/python bench/upload_proxy_memory.py --mib 256
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.onnx_models import large_model_stream

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"
# High-entropy bytes, like a model's weights. (A run of one byte value that occurs in the
# boundary is a worst case for the parser's delimiter search: 2.7 ms per MiB against
# 0.45 ms for random bytes, measured here; it used to be b"\x5a" * 1 MiB.)
BLOCK = random.Random(13).randbytes(1024 * 1024)
# An image's first block begins as a JPEG does: the proxy refuses images that do not.
IMAGE_BLOCK = b"\xff\xd8\xff" + BLOCK[3:]
MAX_MODEL_MIB = 480
IMAGE_MIB = 9

SINK = r"""
import http.server, json, sys, uuid
from datetime import datetime, timezone
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self._json(200, {"jobs": [], "total": 0, "next_cursor": None})
    def do_POST(self):
        if self.path.endswith("/oauth/token"):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            return self._json(200, {"access_token": "bench", "expires_in": 3600})
        received = 0
        if self.headers.get("Transfer-Encoding") == "chunked":
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline(); break
                while size:
                    got = len(self.rfile.read(min(size, 1 << 20))); size -= got; received += got
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", 0))
            while left:
                got = len(self.rfile.read(min(left, 1 << 20))); left -= got; received += got
        now = datetime.now(timezone.utc).isoformat()
        sys.stderr.write(f"sink received {received} bytes\n")
        self._json(201, {"job_id": str(uuid.uuid4()), "status": "created", "stage": None,
                         "created_at": now, "updated_at": now,
                         "input": {"filename": "bench.onnx"}, "parameters": {"platform": "720"}})
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upload:
    """A multipart body generated on the fly, with a length (so requests sends Content-Length)."""

    def __init__(self, mib: int, user_id: str = "forged") -> None:
        # The converter takes a model of at most 500 MB and images of at most
        # 10 MB: a larger upload is a big model plus many 9 MiB images.
        self.model_mib = min(mib, MAX_MODEL_MIB)
        self.images = [IMAGE_MIB] * ((mib - self.model_mib) // IMAGE_MIB)
        if (mib - self.model_mib) % IMAGE_MIB:
            self.images.append((mib - self.model_mib) % IMAGE_MIB)
        fields = (("user_id", user_id), ("platform", "720"), ("model_id", "32769"))
        self.head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields
        ).encode()
        self.tail = f"--{BOUNDARY}--\r\n".encode()

    @staticmethod
    def file_head(name: str, filename: str) -> bytes:
        return (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()

    def files(self):
        yield self.file_head("model", "bench.onnx"), self.model_mib
        for index, size in enumerate(self.images):
            yield self.file_head("ref_images", f"{index}.jpg"), size

    def model_stream(self, blocks):
        """The model part: a valid ONNX model (the pre-flight refuses other bytes)
        whose weights are ``blocks``."""
        return large_model_stream(self.model_mib * len(BLOCK), payload=blocks)

    def __len__(self) -> int:
        framing = sum(len(piece) for piece in self.model_stream(()))
        body = sum(len(head) + size * len(BLOCK) + 2 for head, size in self.files())
        return len(self.head) + framing + body + len(self.tail)

    def __iter__(self):
        yield self.head
        for index, (head, size) in enumerate(self.files()):
            yield head
            blocks = (IMAGE_BLOCK if n == 0 else BLOCK for n in range(size))
            yield from self.model_stream(blocks) if index == 0 else blocks
            yield b"\r\n"
        yield self.tail


def create_session(env: dict, username: str) -> list[str]:
    """A signed-in session for a new user: [session cookie name, CSRF cookie name, key]."""
    setup = (
        "from django.conf import settings;"
        "from django.contrib.auth import get_user_model;"
        "from django.contrib.sessions.backends.db import SessionStore;"
        f"u=get_user_model().objects.create_user({username!r}, password='bench-pass-1');"
        "s=SessionStore(); s['_auth_user_id']=str(u.pk);"
        "s['_auth_user_backend']=settings.AUTHENTICATION_BACKENDS[0];"
        "s['_auth_user_hash']=u.get_session_auth_hash(); s.create();"
        "print(settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, s.session_key)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", setup],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1].split()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=256, help="model size in MiB (default 256)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="visiona-bench-"))
    sink_port, app_port = free_port(), free_port()
    sink_url = f"http://127.0.0.1:{sink_port}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "VISIONA_DATA_DIR": str(work),
        "VISIONA_SANDBOX": "0",
        "CONVERTER_BASE_URL": sink_url,
        "FAA_BASE_URL": sink_url,
        "MC_SERVICE_ISSUER": sink_url,
        "MC_SERVICE_CLIENT_ID": "bench",
        "MC_SERVICE_CLIENT_SECRET": "bench",
        "CONVERSION_MAX_UPLOAD_BYTES": str(args.mib * 2**20 + 2**20),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    session_cookie, csrf_cookie, session_key = create_session(env, "bench")

    sink = subprocess.Popen([python, "-c", SINK, str(sink_port)])
    app = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "visiona.wsgi",
            "-k",
            "gthread",
            "-w",
            "1",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{app_port}",
            "--log-level",
            "warning",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{app_port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        worker = worker_pid(app.pid)
        requests.get(f"{base}/healthz", timeout=5)  # warm up imports
        idle = rss_kib(worker)
        peak = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kib(worker))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        csrf = uuid.uuid4().hex * 2
        started = time.monotonic()
        response = requests.post(
            f"{base}/api/conversion/init",
            data=Upload(args.mib),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "X-CSRFToken": csrf,
                "Referer": base + "/convert/",
            },
            cookies={session_cookie: session_key, csrf_cookie: csrf},
            timeout=600,
        )
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        print(
            json.dumps(
                {
                    "upload_mib": args.mib,
                    "status": response.status_code,
                    "seconds": round(elapsed, 2),
                    "mib_per_s": round(args.mib / elapsed, 1),
                    "worker_rss_idle_mib": round(idle / 1024, 1),
                    "worker_rss_peak_mib": round(peak / 1024, 1),
                    "worker_rss_growth_mib": round((peak - idle) / 1024, 1),
                },
                indent=2,
            )
        )
        if response.status_code != 201:
            print(response.text[:500], file=sys.stderr)
            sys.exit(1)
    finally:
        app.terminate()
        sink.terminate()
        app.wait()
        sink.wait()


if __name__ == "__main__":
    main()
