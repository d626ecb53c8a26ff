"""Benchmark: polls of GET /api/conversion/{id} under load, versus the stand-in's own lookup.

Production-like (bench/stack.py): gunicorn 2 workers x 8 threads, DEBUG=0, PostgreSQL,
Redis, the converter stand-in in its own process. Creates N users, each with one job
started through the real upload proxy, then drives three loads with bench/loadgen.py
(raw keep-alive sockets, asyncio, in 2 processes):

  1. the stand-in's own lookup (GET /api/v1/jobs/{id} with a service token);
  2. visionA polls of running jobs (served from the shared snapshot within the interval);
  3. visionA polls of finished jobs (never call the converter).

It prints polls/s, latency percentiles, the p50 overhead over the stand-in's own
lookup, the statuses, and how many converter GETs the polls caused.

    .venv/bin/python bench/poll_bench.py [--jobs 20] [--seconds 10] [--connections 16]
    .venv/bin/python bench/poll_bench.py --profile finished   # cProfile (CPU) of one worker
"""

from __future__ import annotations

import argparse
import base64
import json
import pstats
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import loadgen
import requests
from stack import Stack, cpu_seconds, load_average

from tests.onnx_models import weights_model

BOUNDARY = "pollBenchBoundary0123456789"
# A valid ONNX model of 1 KiB of weights: the upload proxy's pre-flight refuses other bytes.
MODEL = weights_model(1024)


def small_form(user_id: str = "forged") -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="platform"\r\n\r\n720\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"; '
        f'filename="bench.onnx"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + MODEL.decode("latin-1")
        + "\r\n",
        f"--{BOUNDARY}--\r\n",
    ]
    if user_id != "forged":
        parts.insert(
            0,
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n{user_id}\r\n',
        )
    return "".join(parts).encode("latin-1")


def start_jobs(stack: Stack, sessions: list[str]) -> list[str]:
    job_ids = []
    for key in sessions:
        csrf = uuid.uuid4().hex * 2
        response = requests.post(
            f"{stack.base}/api/conversion/init",
            data=small_form(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "X-CSRFToken": csrf,
                "Referer": stack.base + "/convert/",
            },
            cookies={stack.session_cookie: key, "csrftoken": csrf},
            timeout=60,
        )
        if response.status_code != 201:
            sys.exit(f"starting a job failed: {response.status_code} {response.text[:300]}")
        job_ids.append(response.json()["job_id"])
    return job_ids


def service_token(stack: Stack) -> str:
    basic = base64.b64encode(b"visiona-sandbox:sandbox-secret").decode()
    response = requests.post(
        f"{stack.sandbox}/sandbox/mc/oauth/token",
        data={"grant_type": "client_credentials", "scope": "converter:job.read"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def converter_gets(stack: Stack) -> int:
    """How many job GETs the stand-in has answered (its counter, sandbox only)."""
    response = requests.get(f"{stack.sandbox}/sandbox/converter/_inspect/stats", timeout=10)
    return response.json()["job_gets"] if response.ok else -1


def finish_jobs(stack: Stack, job_ids: list[str]) -> None:
    stack.manage(
        "shell",
        "-c",
        "from conversion.models import ConversionJob;"
        "from django.utils import timezone;"
        f"ConversionJob.objects.filter(job_id__in={job_ids!r})"
        ".update(status='completed', stage='', progress=100, finished_at=timezone.now())",
    )


def workers_cpu(stack: Stack) -> float:
    return sum(cpu_seconds(pid) for pid in stack.workers_pids)


def polls(stack: Stack, sessions, job_ids, args) -> dict:
    cpu_before = workers_cpu(stack)
    result = _polls(stack, sessions, job_ids, args)
    cpu = workers_cpu(stack) - cpu_before
    result["worker_cpu_ms_per_poll"] = round(1000 * cpu / max(result["requests"], 1), 2)
    return result


def _polls(stack: Stack, sessions, job_ids, args) -> dict:
    # Each connection is one user polling their own job.
    requests_ = [
        (f"/api/conversion/{job_id}", {"Cookie": f"visiona_session={session}"})
        for session, job_id in zip(sessions, job_ids, strict=True)
    ]
    return load("127.0.0.1", stack.app_port, requests_, args)


def load(host, port, requests_: list[tuple[str, dict]], args) -> dict:
    """``requests_`` ((path, headers) pairs) in turn on every connection, with the
    load generator ``--client`` chose."""
    if args.client == "wrk":
        return loadgen.run_wrk(
            host,
            port,
            requests_,
            connections=args.connections,
            threads=args.processes,
            seconds=args.seconds,
        )
    # loadgen.run sends the same headers on every path: the headers of each path go in
    # through the raw requests it builds once per process.
    headers_by_path = dict(requests_)
    original = loadgen._request

    def request(host_, port_, path, headers):
        return original(host_, port_, path, {**headers, **headers_by_path[path]})

    loadgen._request = request
    try:
        return loadgen.run(
            host,
            port,
            list(headers_by_path),
            {},
            connections=args.connections,
            processes=args.processes,
            seconds=args.seconds,
        )
    finally:
        loadgen._request = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--profile", choices=["running", "finished"], help="cProfile one worker's polls"
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if loadgen.wrk_available() else "python",
        help="load generator: wrk (default where installed) or the asyncio one",
    )
    args = parser.parse_args()

    profile_out = "/dev/shm/visiona-poll.prof"
    # The stand-in's own rate limit off: its lookup speed is the baseline here
    # (bench/budget_bench.py is the one that runs against the limit).
    stack_args = {"workers": 2, "threads": 8, "sandbox_env": {"SANDBOX_RATE_LIMIT": "0"}}
    if args.profile:
        stack_args = {
            "workers": 1,
            "threads": 1,
            "wsgi": "profiled_wsgi:application",
            "sandbox_env": {"SANDBOX_RATE_LIMIT": "0"},
            "extra_env": {"BENCH_PROFILE_OUT": profile_out, "PYTHONPATH": "bench"},
        }
        args.connections, args.processes = 1, 1
    with Stack(**stack_args) as stack:
        names = [f"poll{uuid.uuid4().hex[:8]}" for _ in range(args.jobs)]
        sessions = stack.sessions(names)
        job_ids = start_jobs(stack, sessions)
        report: dict = {
            "jobs": args.jobs,
            "connections": args.connections,
            "client": args.client,
        }
        if args.profile:
            if args.profile == "finished":
                finish_jobs(stack, job_ids)
            polls(stack, sessions, job_ids, args)
            stats = pstats.Stats(profile_out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            return
        token = service_token(stack)
        direct_paths = [f"/sandbox/converter/api/v1/jobs/{job_id}" for job_id in job_ids]
        report["load_before"] = load_average()
        sandbox_cpu = cpu_seconds(stack.sandbox_proc.pid)
        report["stand_in_lookup"] = load(
            "127.0.0.1",
            stack.sandbox_port,
            [(path, {"Authorization": f"Bearer {token}"}) for path in direct_paths],
            args,
        )
        report["stand_in_lookup"]["cpu_ms_per_lookup"] = round(
            1000
            * (cpu_seconds(stack.sandbox_proc.pid) - sandbox_cpu)
            / max(report["stand_in_lookup"]["requests"], 1),
            2,
        )
        gets_before = converter_gets(stack)
        report["running_polls"] = polls(stack, sessions, job_ids, args)
        report["converter_gets_during_running_polls"] = converter_gets(stack) - gets_before
        finish_jobs(stack, job_ids)
        report["finished_polls"] = polls(stack, sessions, job_ids, args)
        report["load_after"] = load_average()
        own = report["stand_in_lookup"]["p50_ms"]
        report["p50_overhead_ms_running"] = round(report["running_polls"]["p50_ms"] - own, 2)
        report["p50_overhead_ms_finished"] = round(report["finished_polls"]["p50_ms"] - own, 2)
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
