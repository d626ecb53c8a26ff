"""How long the first /healthz takes with PostgreSQL gone (target: within 2 s).

Each round starts a fresh process (so the answer really is the first: no warm
connection, no cached driver state), points DATABASE_URL at an address that accepts
TCP and never answers (the worst case: a hung server, not a refused port), and
times ``GET /healthz`` there. Also a refused port (a stopped server) for comparison.
Prints each case's median, min and max over the rounds, and the load average.

    .venv/bin/python bench/healthz_outage.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "seconds": time.monotonic() - started}))
"""


def silent_port() -> tuple[int, socket.socket]:
    """A server that accepts connections and never answers: a hung PostgreSQL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server


def first_healthz(database_url: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port, server = silent_port()
    cases = {
        "hung (accepts, never answers)": f"postgres://postgres@127.0.0.1:{port}/visiona",
        "hung, by name (localhost: two addresses)": f"postgres://postgres@localhost:{port}/x",
        "stopped (connection refused)": "postgres://postgres@127.0.0.1:9/visiona",
    }
    print(f"load average at start: {os.getloadavg()}")
    try:
        for name, url in cases.items():
            answers = [first_healthz(url) for _ in range(args.rounds)]
            seconds = [answer["seconds"] for answer in answers]
            statuses = sorted({answer["status"] for answer in answers})
            print(
                f"{name}: median {statistics.median(seconds):.2f} s, "
                f"min {min(seconds):.2f}, max {max(seconds):.2f} (statuses {statuses})"
            )
    finally:
        server.close()
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
