"""Benchmark: 1 GiB through visionA's upload proxy versus straight to the converter.

Starts the converter stand-in as its own process (``manage.py run_sandbox``) and
visionA under gunicorn (``gthread``) pointing at it, then uploads the same form
twice in one run: directly to the stand-in, and through
``POST /api/conversion/init``. Prints the proxied/direct time ratio, the
worker's peak RSS above idle, and the bytes visionA wrote to its temp folder.

Targets (issue 4): ratio <= 1.25, RSS growth <= 48 MB, temp bytes = 0.

    .venv/bin/python bench/proxy_vs_direct.py [--mib 1024] [--rounds 2]

The converter takes a model of at most 500 MB and images of at most 10 MB, so
1 GiB is a 480 MiB model plus 9 MiB images (see upload_proxy_memory.Upload).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from upload_proxy_memory import (
    BOUNDARY,
    ROOT,
    Upload,
    create_session,
    free_port,
    rss_kib,
    worker_pid,
)

SANDBOX_CLIENT = ("visiona-sandbox", "sandbox-secret")  # the sandbox's defaults


def wait_for(url: str) -> None:
    for _ in range(200):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            pass
    return total


class Sampler:
    """Samples a process's RSS and a folder's size while an upload runs."""

    def __init__(self, pid: int, folder: Path) -> None:
        self.pid, self.folder = pid, folder
        self.peak_rss = rss_kib(pid)
        self.peak_temp = folder_bytes(folder)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak_rss = max(self.peak_rss, rss_kib(self.pid))
            self.peak_temp = max(self.peak_temp, folder_bytes(self.folder))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def service_token(sandbox: str) -> str:
    basic = base64.b64encode(":".join(SANDBOX_CLIENT).encode()).decode()
    response = requests.post(
        f"{sandbox}/sandbox/mc/oauth/token",
        data={"grant_type": "client_credentials", "scope": "converter:job.write"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def timed_post(url: str, body: Upload, **kwargs) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = requests.post(url, data=body, timeout=1800, **kwargs)
    return time.monotonic() - started, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="upload size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=2, help="direct+proxied pairs (best kept)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="visiona-bench-"))
    visiona_tmp = work / "visiona-tmp"
    visiona_tmp.mkdir()
    sandbox_port, app_port = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    sandbox_env = {
        **base_env,
        "DEBUG": "1",
        "VISIONA_SANDBOX": "1",
        "VISIONA_DATA_DIR": str(work / "sandbox-data"),
        "SANDBOX_STAGE_SECONDS": "600",  # jobs stay unfinished: each round uses new users
        "LOG_LEVEL": "WARNING",
    }
    visiona_env = {
        **base_env,
        "DEBUG": "1",
        "VISIONA_SANDBOX": "1",
        "VISIONA_SANDBOX_BASE_URL": sandbox,
        "VISIONA_DATA_DIR": str(work / "visiona-data"),
        "CONVERSION_MAX_UPLOAD_BYTES": str(args.mib * 2**20 + 2**24),
        "TMPDIR": str(visiona_tmp),  # anything visionA spools would land here
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    manage = [python, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=visiona_env, check=True)

    sandbox_proc = subprocess.Popen(
        [*manage, "run_sandbox", f"127.0.0.1:{sandbox_port}"],
        cwd=ROOT,
        env=sandbox_env,
        stdout=subprocess.DEVNULL,
    )
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
            "1800",
            "--worker-tmp-dir",
            "/dev/shm",
        ],
        cwd=ROOT,
        env=visiona_env,
    )
    try:
        base = f"http://127.0.0.1:{app_port}"
        wait_for(f"{sandbox}/sandbox/converter/health")
        wait_for(f"{base}/healthz")
        worker = worker_pid(app.pid)
        requests.get(f"{base}/healthz", timeout=5)
        idle = rss_kib(worker)
        token = service_token(sandbox)
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
        direct_times, proxied_times = [], []
        peak_rss, peak_temp = idle, 0
        for round_ in range(args.rounds):
            direct_body = Upload(args.mib, user_id=f"bench-direct-{round_}")
            seconds, response = timed_post(
                f"{sandbox}/sandbox/converter/api/v1/jobs",
                direct_body,
                headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
            )
            if response.status_code != 201:
                sys.exit(f"direct upload failed: {response.status_code} {response.text[:300]}")
            direct_times.append(seconds)

            session_cookie, csrf_cookie, session_key = create_session(visiona_env, f"bench{round_}")
            csrf = uuid.uuid4().hex * 2
            with Sampler(worker, visiona_tmp) as sampler:
                seconds, response = timed_post(
                    f"{base}/api/conversion/init",
                    Upload(args.mib),
                    headers={"Content-Type": content_type, "X-CSRFToken": csrf},
                    cookies={session_cookie: session_key, csrf_cookie: csrf},
                )
            if response.status_code != 201:
                sys.exit(f"proxied upload failed: {response.status_code} {response.text[:300]}")
            proxied_times.append(seconds)
            peak_rss = max(peak_rss, sampler.peak_rss)
            peak_temp = max(peak_temp, sampler.peak_temp, folder_bytes(visiona_tmp))

        direct, proxied = min(direct_times), min(proxied_times)
        print(
            json.dumps(
                {
                    "upload_mib": args.mib,
                    "rounds": args.rounds,
                    "direct_seconds": [round(t, 2) for t in direct_times],
                    "proxied_seconds": [round(t, 2) for t in proxied_times],
                    "ratio_best": round(proxied / direct, 3),
                    "proxied_mib_per_s": round(args.mib / proxied, 1),
                    "worker_rss_idle_mib": round(idle / 1024, 1),
                    "worker_rss_peak_mib": round(peak_rss / 1024, 1),
                    "worker_rss_growth_mb": round((peak_rss - idle) * 1024 / 1e6, 1),
                    "visiona_temp_bytes": peak_temp,
                },
                indent=2,
            )
        )
    finally:
        app.terminate()
        sandbox_proc.terminate()
        app.wait()
        sandbox_proc.wait()


if __name__ == "__main__":
    main()
