"""Benchmark: /models/ and /conversions/ at 1,000 rows, /devices/ at 1,000 devices.

Production-like (bench/stack.py: gunicorn 2 x 8, DEBUG=0, PostgreSQL, Redis). One user
owns 1,000 of each; each page (its first, and its last) is fetched by one connection
after the other for ``--seconds`` (bench/loadgen.py), so the latency is the server's
time plus a loopback round trip. Printed per page: p50 / p90 / p99 / min of the
latency, the worker CPU per page, the statuses, and the load average.
Target (issue 13): < 30 ms server time.

    .venv/bin/python bench/list_pages_bench.py [--rows 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import uuid

import loadgen
from stack import Stack, cpu_seconds, load_average

SEED = """
import sys, uuid
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from conversion.models import ConversionJob
from devices.models import Device
from models_repo.models import ModelPlatform, NefModel
name, rows = sys.argv[1], int(sys.argv[2])
user = get_user_model().objects.get(username=name)
now = timezone.now()
ConversionJob.objects.bulk_create(ConversionJob(job_id=str(uuid.uuid4()), owner=user,
    chip="KL720", filename=f"m{n}.onnx", status="completed", progress=100,
    created_at=now - timedelta(minutes=n), finished_at=now - timedelta(minutes=n - 1),
    expires_at=now + timedelta(days=7)) for n in range(rows))
models = NefModel.objects.bulk_create(NefModel(owner=user, name=f"model {n}", source="upload",
    file=f"models/m{n}.nef", size_bytes=1000 + n, sha256="0" * 64) for n in range(rows))
ModelPlatform.objects.bulk_create(ModelPlatform(model=m, chip="KL720") for m in models)
Device.objects.bulk_create(Device(owner=user, serial=f"SN-{uuid.uuid4().hex[:12]}",
    name=f"device {n}", chip="KL520") for n in range(rows))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    with Stack(workers=2, threads=8) as stack:
        name = f"pages{uuid.uuid4().hex[:8]}"
        session = stack.sessions([name])[0]
        import subprocess

        from stack import _DJANGO_SETUP, PYTHON, ROOT

        subprocess.run(
            [PYTHON, "-c", _DJANGO_SETUP + SEED, name, str(args.rows)],
            cwd=ROOT,
            env=stack.env,
            check=True,
        )
        headers = {"Cookie": f"visiona_session={session}", "Accept": "text/html"}
        report = {"rows": args.rows, "load_before": load_average(), "pages": {}}
        for page in ("/conversions/", "/models/", "/devices/"):
            for suffix in ("", "?page=9999"):
                url = page + suffix
                loadgen.run(
                    "127.0.0.1",
                    stack.app_port,
                    [url],
                    headers,
                    connections=1,
                    processes=1,
                    seconds=1,
                )  # warm-up
                before = sum(cpu_seconds(pid) for pid in stack.workers_pids)
                result = loadgen.run(
                    "127.0.0.1",
                    stack.app_port,
                    [url],
                    headers,
                    connections=1,
                    processes=1,
                    seconds=args.seconds,
                )
                cpu = sum(cpu_seconds(pid) for pid in stack.workers_pids) - before
                report["pages"][url] = {
                    "p50_ms": result["p50_ms"],
                    "p90_ms": result["p90_ms"],
                    "p99_ms": result["p99_ms"],
                    "requests": result["requests"],
                    "worker_cpu_ms": round(1000 * cpu / max(result["requests"], 1), 1),
                    "statuses": result["statuses"],
                }
        report["load_after"] = load_average()
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
