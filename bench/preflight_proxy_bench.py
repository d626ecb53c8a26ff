"""The ONNX pre-flight's share of the upload proxy's CPU under gunicorn (issue 14's
target: the scan adds at most 5 % to the proxy's CPU per GiB).

    .venv/bin/python bench/preflight_proxy_bench.py [--mib 1024] [--pairs 5]

Two production-like stacks (``stack.py``: gunicorn gthread 2 x 8, DEBUG=0, PostgreSQL,
Redis, each with its converter stand-in): A serves visionA as shipped, B the same
code with the pre-flight turned off (``no_preflight_wsgi.py``). The same 1 GiB form
(a valid ONNX model of 480 MiB with high-entropy weights, then 9 MiB images; see
``upload_proxy_memory.Upload``) goes through A and B in alternating pairs (A B, B A,
...). Printed: the workers' CPU seconds per GiB for each, the median of the per-pair
ratios A/B with min and max, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import uuid

from proxy_vs_direct import measured_post
from stack import REDIS_URL, Stack, load_average
from upload_proxy_memory import BOUNDARY, Upload


def stack_for(mib: int, *, wsgi: str = "visiona.wsgi", extra_env: dict | None = None) -> Stack:
    return Stack(
        workers=2,
        threads=8,
        wsgi=wsgi,
        sandbox_env={"SANDBOX_RATE_LIMIT": "0", "SANDBOX_MAX_CONCURRENT_UPLOADS": "50"},
        extra_env={"CONVERSION_MAX_UPLOAD_BYTES": str(mib * 2**20 + 2**24), **(extra_env or {})},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    gib = args.mib / 1024
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    with (
        stack_for(args.mib) as with_scan,
        stack_for(
            args.mib,
            wsgi="no_preflight_wsgi:application",
            extra_env={
                "PYTHONPATH": os.path.dirname(os.path.abspath(__file__)),
                # Its own cache: tokens and budgets of A's stand-in mean nothing to B's.
                "REDIS_URL": REDIS_URL.rsplit("/", 1)[0] + "/12",
            },
        ) as without_scan,
    ):
        # One user per upload: a user has one conversion in progress at a time.
        count = args.pairs + 1
        sessions = {
            "with": with_scan.sessions([f"pfa{uuid.uuid4().hex[:8]}" for _ in range(count)]),
            "without": without_scan.sessions([f"pfb{uuid.uuid4().hex[:8]}" for _ in range(count)]),
        }
        stacks = {"with": with_scan, "without": without_scan}

        def upload(kind: str) -> dict:
            stack = stacks[kind]
            csrf = uuid.uuid4().hex * 2
            run = measured_post(
                f"{stack.base}/api/conversion/init",
                Upload(args.mib),
                stack.workers_pids,
                headers={"Content-Type": content_type, "X-CSRFToken": csrf},
                cookies={stack.session_cookie: sessions[kind].pop(), "csrftoken": csrf},
            )
            # The upload's worker is the one that spent the CPU; the other idled.
            return {"seconds": run["seconds"], "cpu": max(run["cpu"].values())}

        upload("with"), upload("without")  # warm-up: imports, connections, allocator
        load_before = load_average()
        pairs = []
        for index in range(args.pairs):
            order = ("with", "without") if index % 2 == 0 else ("without", "with")
            pairs.append({kind: upload(kind) for kind in order})
        load_after = load_average()

    ratios = [p["with"]["cpu"] / p["without"]["cpu"] for p in pairs]

    def per_gib(kind: str) -> dict:
        values = [p[kind]["cpu"] / gib for p in pairs]
        return {
            "median": round(statistics.median(values), 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
        }

    print(
        json.dumps(
            {
                "upload_mib": args.mib,
                "pairs": args.pairs,
                "order": "with the scan first in even pairs, without first in odd pairs",
                "worker_cpu_s_per_gib_with_preflight": per_gib("with"),
                "worker_cpu_s_per_gib_without_preflight": per_gib("without"),
                "cpu_ratio_with_over_without": {
                    "median": round(statistics.median(ratios), 3),
                    "min": round(min(ratios), 3),
                    "max": round(max(ratios), 3),
                },
                "seconds_with": [round(p["with"]["seconds"], 2) for p in pairs],
                "seconds_without": [round(p["without"]["seconds"], 2) for p in pairs],
                "load_average_before": load_before,
                "load_average_after": load_after,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
