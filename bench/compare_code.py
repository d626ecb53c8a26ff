"""One benchmark, run against this checkout's code and an older commit's, alternating.

    git worktree add --detach /tmp/base 8fbd0d9
    .venv/bin/python bench/compare_code.py --base /tmp/base [--runs 3] -- poll_bench.py --jobs 16
    .venv/bin/python bench/compare_code.py --base /tmp/base -- proxy_vs_direct.py --mib 1024
    .venv/bin/python bench/compare_code.py --base /tmp/base -- list_pages_bench.py --rows 1000

The benchmark is always this checkout's script (the same harness both times); the code it
runs is this checkout's or, through BENCH_CODE_ROOT (bench/stack.py), the other one's, on
a database of its own (BENCH_DATABASE_URL + "_base"). Runs alternate A B B A... (``--runs``
of each); every number of each run's JSON is kept, and the figures that matter for the
script (FIGURES) are printed side by side: each side's values and median, the median /
min / max of the per-pair ratios (this / base), with the load average at each run's start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/visiona_bench"
)
# The figures to set side by side, as paths into each script's JSON (regular expressions).
FIGURES = {
    "poll_bench.py": [
        r"(running|finished)_polls\.(rps|p50_ms|p99_ms|worker_cpu_ms_per_poll|cpu_ms_per_poll)"
    ],
    "proxy_vs_direct.py": [r"ratio_median", r"cpu_s_per_gib\.visiona_worker_proxied\.median"],
    "list_pages_bench.py": [r"pages\..*\.(p50_ms|worker_cpu_ms)"],
}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def flatten(value, prefix: str = "") -> dict[str, float]:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {prefix: value}
    return {}


def run(script: list[str], code_root: Path | None) -> dict:
    env = dict(os.environ)
    if code_root is not None:
        env["BENCH_CODE_ROOT"] = str(code_root)
        env["BENCH_DATABASE_URL"] = DATABASE_URL + "_base"
    started = load_average()
    out = subprocess.run(
        [sys.executable, str(BENCH / script[0]), *script[1:]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(out[out.index("{") :])  # the script's JSON (after any other line)
    return {"load": started, "figures": flatten(report)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="a checkout of the older code")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side")
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- script.py [its options]")
    args = parser.parse_args()
    script = [part for part in args.script if part != "--"]
    if not script:
        parser.error("name the benchmark after --")
    runs: dict[str, list[dict]] = {"this": [], "base": []}
    for index in range(args.runs):
        order = ["base", "this"] if index % 2 == 0 else ["this", "base"]
        for side in order:
            runs[side].append(run(script, args.base if side == "base" else None))
    patterns = [re.compile(p) for p in FIGURES.get(script[0], [r".*"])]
    names = [
        name
        for name in runs["this"][0]["figures"]
        if any(p.fullmatch(name) for p in patterns) and name in runs["base"][0]["figures"]
    ]
    table = {}
    for name in names:
        this = [r["figures"][name] for r in runs["this"]]
        base = [r["figures"][name] for r in runs["base"]]
        ratios = [a / b for a, b in zip(this, base, strict=True) if b]
        table[name] = {
            "this": this,
            "base": base,
            "this_median": statistics.median(this),
            "base_median": statistics.median(base),
            "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "ratio_min": round(min(ratios), 3) if ratios else None,
            "ratio_max": round(max(ratios), 3) if ratios else None,
        }
    report = {
        "script": script,
        "base": str(args.base),
        "order": "base, this; then this, base; ...",
        "loads": {side: [r["load"] for r in runs[side]] for side in runs},
        "figures": table,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
