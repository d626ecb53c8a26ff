"""Benchmark: 1 GiB through visionA's upload proxy versus straight to the converter stand-in.

Production-like (bench/stack.py): gunicorn (gthread, 2 workers x 8 threads), DEBUG=0,
PostgreSQL, Redis, and the converter stand-in (``manage.py run_sandbox``) in its own
process, keeping what it receives on tmpfs (/dev/shm). Pairs alternate the order
(direct, proxied, proxied, direct, ...); each pair gives a proxied/direct time ratio,
and the median, min and max of those ratios are printed, with the CPU seconds per GiB
of each process (the visionA worker that served the upload, the stand-in, the client),
the worker's RSS growth above its RSS after a warm-up upload, the bytes visionA wrote
to its temp folder, and the load average.

Targets (issue 13): median ratio <= 1.10, worker CPU <= 1.0 s/GiB, RSS growth <= 32 MB,
0 temp bytes.

    .venv/bin/python bench/proxy_vs_direct.py [--mib 1024] [--pairs 5]

The converter takes a model of at most 500 MB and images of at most 10 MB, so 1 GiB is a
480 MiB model plus 9 MiB images (see upload_proxy_memory.Upload).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from stack import Stack, cpu_seconds, load_average, rss_kib
from upload_proxy_memory import BOUNDARY, Upload


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
    """Samples the workers' RSS and a folder's size while an upload runs."""

    def __init__(self, pids: list[int], folder: Path) -> None:
        self.pids, self.folder = pids, folder
        self.peak_rss = {pid: rss_kib(pid) for pid in pids}
        self.peak_temp = folder_bytes(folder)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._done.is_set():
            for pid in self.pids:
                self.peak_rss[pid] = max(self.peak_rss[pid], rss_kib(pid))
            self.peak_temp = max(self.peak_temp, folder_bytes(self.folder))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def service_token(sandbox: str) -> str:
    basic = base64.b64encode(b"visiona-sandbox:sandbox-secret").decode()
    response = requests.post(
        f"{sandbox}/sandbox/mc/oauth/token",
        data={"grant_type": "client_credentials", "scope": "converter:job.write"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured_post(url: str, body: Upload, pids: list[int], **kwargs) -> dict:
    before = {pid: cpu_seconds(pid) for pid in pids}
    client_before = client_cpu()
    started = time.monotonic()
    response = requests.post(url, data=body, timeout=1800, **kwargs)
    seconds = time.monotonic() - started
    if response.status_code != 201:
        sys.exit(f"upload to {url} failed: {response.status_code} {response.text[:300]}")
    return {
        "seconds": seconds,
        "cpu": {pid: cpu_seconds(pid) - before[pid] for pid in pids},
        "client_cpu": client_cpu() - client_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="upload size in MiB (default 1024)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs (default 5)")
    args = parser.parse_args()
    gib = args.mib / 1024
    content_type = f"multipart/form-data; boundary={BOUNDARY}"

    with Stack(
        workers=2,
        threads=8,
        extra_env={"CONVERSION_MAX_UPLOAD_BYTES": str(args.mib * 2**20 + 2**24)},
        sandbox_env={"SANDBOX_RATE_LIMIT": "0", "SANDBOX_MAX_CONCURRENT_UPLOADS": "50"},
    ) as stack:
        workers = stack.workers_pids
        sandbox_pid = stack.sandbox_proc.pid
        token = service_token(stack.sandbox)
        users = [f"pvd{uuid.uuid4().hex[:8]}" for _ in range(args.pairs + 1)]
        sessions = stack.sessions(users)

        def direct(index: int) -> dict:
            return measured_post(
                f"{stack.sandbox}/sandbox/converter/api/v1/jobs",
                Upload(args.mib, user_id=f"bench-direct-{uuid.uuid4().hex[:8]}"),
                [sandbox_pid, *workers],
                headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
            )

        def proxied(index: int) -> dict:
            csrf = uuid.uuid4().hex * 2
            return measured_post(
                f"{stack.base}/api/conversion/init",
                Upload(args.mib),
                [sandbox_pid, *workers],
                headers={"Content-Type": content_type, "X-CSRFToken": csrf},
                cookies={stack.session_cookie: sessions[index], "csrftoken": csrf},
            )

        # Warm-up: one proxied upload (imports, connections, allocator), then idle RSS.
        proxied(args.pairs)
        idle_rss = {pid: rss_kib(pid) for pid in workers}
        load_before = load_average()
        pairs = []
        peak_temp = 0
        growth = 0.0
        for index in range(args.pairs):
            order = ("direct", "proxied") if index % 2 == 0 else ("proxied", "direct")
            result = {}
            for kind in order:
                if kind == "direct":
                    result["direct"] = direct(index)
                    continue
                with Sampler(workers, stack.visiona_tmp) as sampler:
                    result["proxied"] = proxied(index)
                peak_temp = max(peak_temp, sampler.peak_temp, folder_bytes(stack.visiona_tmp))
                growth = max(
                    growth, *((sampler.peak_rss[pid] - idle_rss[pid]) / 1024 for pid in workers)
                )
            pairs.append(result)
        load_after = load_average()

    ratios = [p["proxied"]["seconds"] / p["direct"]["seconds"] for p in pairs]

    def worker_cpu(run: dict) -> float:
        return max(cpu for pid, cpu in run["cpu"].items() if pid != sandbox_pid)

    def per_gib(values: list[float]) -> dict:
        return {
            "median": round(statistics.median(values) / gib, 2),
            "min": round(min(values) / gib, 2),
            "max": round(max(values) / gib, 2),
        }

    print(
        json.dumps(
            {
                "upload_mib": args.mib,
                "pairs": args.pairs,
                "order": "direct first in even pairs, proxied first in odd pairs",
                "direct_seconds": [round(p["direct"]["seconds"], 2) for p in pairs],
                "proxied_seconds": [round(p["proxied"]["seconds"], 2) for p in pairs],
                "ratio_median": round(statistics.median(ratios), 3),
                "ratio_min": round(min(ratios), 3),
                "ratio_max": round(max(ratios), 3),
                "cpu_s_per_gib": {
                    "visiona_worker_proxied": per_gib([worker_cpu(p["proxied"]) for p in pairs]),
                    "stand_in_proxied": per_gib([p["proxied"]["cpu"][sandbox_pid] for p in pairs]),
                    "stand_in_direct": per_gib([p["direct"]["cpu"][sandbox_pid] for p in pairs]),
                    "client_proxied": per_gib([p["proxied"]["client_cpu"] for p in pairs]),
                    "client_direct": per_gib([p["direct"]["client_cpu"] for p in pairs]),
                },
                "worker_rss_after_warmup_mib": {
                    str(pid): round(kib / 1024, 1) for pid, kib in idle_rss.items()
                },
                "worker_rss_growth_mb": round(growth * 1.048576, 1),
                "visiona_temp_bytes": peak_temp,
                "load_average_before": load_before,
                "load_average_after": load_after,
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
