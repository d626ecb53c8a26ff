"""Worker CPU of a signed-in API GET (the empty models list), through nginx and straight
to gunicorn, by session and by personal token; side by side with an older commit.

    .venv/bin/python bench/api_get_bench.py [--base /tmp/base] [--pairs 3] [--requests 2000]

The loopback stack (deploy/loopback.py: nginx, gunicorn 2 x 8 as the image runs it,
PostgreSQL, Redis) runs this checkout's code and, with ``--base``, a second one runs the
code of another checkout (``git worktree add --detach /tmp/base 8fbd0d9``) on its own
database (BENCH_DATABASE_URL + "_base"); both use this checkout's nginx and gunicorn
files. The runs alternate A B B A; each measures, one request at a time over a kept-alive
connection, the CPU the gunicorn workers spent per request (user + system, /proc) and
the latency. Prints JSON: per mode, each side's median and the median / min / max of
the per-pair ratios (this / base), with the load average before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.loopback import LoopbackStack

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/visiona_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
PATH = "/api/models/"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(stack: LoopbackStack, port: int, headers: dict, count: int) -> dict:
    """``count`` GETs one after the other; worker CPU per request and latency."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept": "application/json", **headers}

    def get() -> float:
        started = time.perf_counter()
        connection.request("GET", PATH, headers=headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"GET {PATH}: {answer.status}")
        return time.perf_counter() - started

    for _ in range(100):  # warm: the user's row, connections, code paths
        get()
    workers = stack.worker_pids
    before = sum(cpu_seconds(pid) for pid in workers)
    latencies = sorted(get() for _ in range(count))
    cpu = sum(cpu_seconds(pid) for pid in workers) - before
    connection.close()
    return {
        "worker_cpu_ms": round(1000 * cpu / count, 3),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p90_ms": round(1000 * latencies[int(len(latencies) * 0.9)], 2),
    }


def run_once(stack: LoopbackStack, auth: dict, count: int) -> dict:
    out = {}
    for label, headers in auth.items():
        out[f"{label} via nginx"] = measure(stack, stack.nginx_port, headers, count)
        out[f"{label} direct"] = measure(stack, stack.web_port, headers, count)
    return out


def credentials(stack: LoopbackStack) -> dict:
    name = f"apiget{uuid.uuid4().hex[:8]}"
    session = stack.sessions([name])[0]
    token = stack.tokens([name + "t"], scopes="read")[0]
    return {
        "session": {"Cookie": f"visiona_session={session}"},
        "token": {"Authorization": f"Bearer {token}"},
    }


def summary(runs: dict[str, list[dict]], has_base: bool) -> dict:
    modes = runs["this"][0].keys()
    out = {}
    for mode in modes:
        this = [run[mode]["worker_cpu_ms"] for run in runs["this"]]
        entry = {
            "worker_cpu_ms_this": round(statistics.median(this), 3),
            "p50_ms_this": statistics.median(run[mode]["p50_ms"] for run in runs["this"]),
        }
        if has_base:
            base = [run[mode]["worker_cpu_ms"] for run in runs["base"]]
            ratios = [a / b for a, b in zip(this, base, strict=True)]
            entry.update(
                worker_cpu_ms_base=round(statistics.median(base), 3),
                p50_ms_base=statistics.median(run[mode]["p50_ms"] for run in runs["base"]),
                ratio_median=round(statistics.median(ratios), 3),
                ratio_min=round(min(ratios), 3),
                ratio_max=round(max(ratios), 3),
            )
        out[mode] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="a checkout of the older commit")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    stacks = {"this": LoopbackStack(database_url=DATABASE_URL, redis_url=REDIS_URL, relays=0)}
    if args.base:
        stacks["base"] = LoopbackStack(
            database_url=DATABASE_URL + "_base",
            redis_url=REDIS_URL,
            relays=0,
            code_root=args.base,
            static_root=stacks["this"].static_root,
        )
    report = {"requests_per_run": args.requests, "load_before": load_average()}
    try:
        for stack in stacks.values():
            stack.start()
        auth = {name: credentials(stack) for name, stack in stacks.items()}
        runs: dict[str, list[dict]] = {name: [] for name in stacks}
        for pair in range(args.pairs):
            order = list(stacks) if pair % 2 == 0 else list(reversed(stacks))
            for name in order:
                runs[name].append(run_once(stacks[name], auth[name], args.requests))
        report["modes"] = summary(runs, "base" in stacks)
        report["runs"] = runs
    finally:
        for stack in stacks.values():
            stack.stop()
            stack.remove()
    report["load_after"] = load_average()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
