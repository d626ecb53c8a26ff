"""Benchmark: 50 watched jobs, each polled by two pollers every 2 s, against a converter
stand-in that enforces 300 requests per 5 minutes.

Production-like (bench/stack.py: gunicorn 2 x 8, DEBUG=0, PostgreSQL, Redis, the stand-in
in its own process with its rate limit on). The jobs are started through the real upload
proxy first; then the stand-in is restarted (a new rate window: it counts per process,
like the real one) and visionA's budget log is emptied, so the measured window starts
clean. Then 100 pollers (2 per job, spread over the 2 s period) poll for ``--seconds``
(default 300). Printed: the answers by status (target: no 429 and no 503 service_busy),
the snapshot's age in every answer (now - checked_at) against the stretched interval
(target: never older than it, plus one poll period for the poll that finds it due),
the stand-in's own count of job lookups and 429s, and the load average.

    .venv/bin/python bench/budget_bench.py [--jobs 50] [--seconds 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import uuid

import loadgen
import requests
from poll_bench import start_jobs
from stack import PYTHON, ROOT, Stack, load_average, wait_for


def restart_stand_in(stack: Stack) -> None:
    stack.sandbox_proc.terminate()
    stack.sandbox_proc.wait(timeout=30)
    stack.sandbox_proc = subprocess.Popen(
        [PYTHON, "manage.py", "run_sandbox", f"127.0.0.1:{stack.sandbox_port}"],
        cwd=ROOT,
        env=stack.sandbox_env,
        stdout=subprocess.DEVNULL,
    )
    wait_for(f"{stack.sandbox}/sandbox/converter/health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--period", type=float, default=2.0, help="each poller's period (s)")
    args = parser.parse_args()
    with Stack(
        workers=2,
        threads=8,
        sandbox_env={"SANDBOX_RATE_LIMIT": "300", "SANDBOX_RATE_WINDOW_SECONDS": "300"},
    ) as stack:
        names = [f"bud{uuid.uuid4().hex[:8]}" for _ in range(args.jobs)]
        sessions = stack.sessions(names)
        job_ids = start_jobs(stack, sessions)
        restart_stand_in(stack)
        stack.manage(
            "shell",
            "-c",
            "from django.core.cache import cache; cache.delete_pattern('conversion:*')",
        )
        paths = [f"/api/conversion/{job_id}" for job_id in job_ids]
        cookie_by_path = dict(zip(paths, sessions, strict=True))
        original = loadgen._request

        def request(host, port, path, headers):
            return original(
                host, port, path, {**headers, "Cookie": f"visiona_session={cookie_by_path[path]}"}
            )

        loadgen._request = request
        load_before = load_average()
        started = time.time()
        result = loadgen.run(
            "127.0.0.1",
            stack.app_port,
            paths * 2,  # two pollers per job
            {},
            connections=2 * args.jobs,
            processes=2,
            seconds=args.seconds,
            rate_gap=args.period,
            track_checked_at=True,
        )
        elapsed = time.time() - started
        stats = requests.get(f"{stack.sandbox}/sandbox/converter/_inspect/stats", timeout=10).json()
        interval = max(2 * 0.9, 300 * args.jobs / int(298 * 0.8))
        print(
            json.dumps(
                {
                    "jobs": args.jobs,
                    "pollers": 2 * args.jobs,
                    "poll_period_s": args.period,
                    "seconds": round(elapsed, 1),
                    "polls": result["requests"],
                    "statuses": result["statuses"],
                    "connection_errors": result["connection_errors"],
                    "reconnects": result["reconnects"],
                    "p50_ms": result["p50_ms"],
                    "p99_ms": result["p99_ms"],
                    "stretched_interval_s": round(interval, 1),
                    "snapshot_age_max_s": result["snapshot_age_max_s"],
                    "snapshot_age_p99_s": result["snapshot_age_p99_s"],
                    "stand_in_job_lookups": stats["job_gets"],
                    "stand_in_rate_limited": stats["counts"].get("rate_limited", 0),
                    "stand_in_counts": stats["counts"],
                    "load_average_before": load_before,
                    "load_average_after": load_average(),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
