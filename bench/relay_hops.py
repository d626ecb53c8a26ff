"""Where a small relayed GET's time and CPU go, hop by hop (issue 20).

    BENCH_DATABASE_URL=postgres://... BENCH_REDIS_URL=redis://... \\
        .venv/bin/python bench/relay_hops.py [--requests 300] [--code DIR]

On the loopback stack (deploy/loopback.py; ``--code``: another checkout's code, with its
own client for the demo device and the agent, database BENCH_DATABASE_URL + "_base"),
one connection, ``--requests`` GETs of the demo device's ``/api/system/deps`` each way:

- straight to the demo device;
- at the relay node's internal port with the web instances' secret (the relay, the
  tunnel through nginx's /tunnel, the agent and the device; no authorization);
- the authorization alone: straight to gunicorn, as nginx sends it
  (``X-Visiona-Offload``), answered with the handoff and its grant;
- a signed-in ``GET /api/auth/me`` through nginx (the floor of a signed-in request);
- the relayed GET through nginx: all of the above in a row.

For each: the p50, and the CPU each process of the stack spent per request (nginx,
the gunicorn workers, the relay node, the agent, the demo device, this client).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relay_offload_bench import (  # noqa: E402
    AGENTS,
    DATABASE_URL,
    DEMO,
    REDIS_URL,
    SETUP,
    client_process,
    load,
    wait_tunnels,
)
from bench.stack import cpu_seconds  # noqa: E402
from deploy.loopback import LoopbackStack  # noqa: E402


def p50(session: requests.Session, url: str, headers: dict | None, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url, headers=headers, allow_redirects=False, timeout=30)
        answer.content  # noqa: B018
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: {answer.status_code} {answer.text[:200]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--code", type=Path, help="another checkout whose code runs")
    args = parser.parse_args()
    code = args.code or ROOT
    env = {"RELAY_MAX_EXCHANGES_PER_USER": "2000", "RELAY_MAX_EXCHANGES_PER_DEVICE": "2000"}
    database = DATABASE_URL + ("_base" if args.code else "")
    with LoopbackStack(
        database_url=database, redis_url=REDIS_URL, env=env, code_root=args.code
    ) as stack:
        script = SETUP.replace("RUN_ID", f"hops-{os.getpid()}-{int(time.time())}")
        setup = json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        demo, demo_url = client_process(DEMO, code=code)
        device, token = setup["devices"]["other"][0]
        agent, _ = client_process(AGENTS, stack.tunnel_url, demo_url, token, code=code)
        try:
            wait_tunnels(stack, 1)
            browser = requests.Session()
            browser.cookies.set("visiona_session", setup["sessions"]["other"])
            plain = requests.Session()
            secret = {"X-Relay-Secret": stack.env["RELAY_INTERNAL_SECRET"]}
            relay = stack.relay_internal_urls[0]
            hops = {
                "straight to the device": (plain, f"{demo_url}/api/system/deps", None),
                "relay port (secret)": (plain, f"{relay}/devices/{device}/api/system/deps", secret),
                "authorization alone": (
                    browser,
                    stack.direct_url(f"/api/devices/{device}/agent/api/system/deps"),
                    {"X-Visiona-Offload": "files relay"},
                ),
                "API GET /api/auth/me": (browser, stack.url("/api/auth/me"), None),
                "relayed through nginx": (
                    browser,
                    stack.url(f"/api/devices/{device}/agent/api/system/deps"),
                    None,
                ),
            }
            for session, url, headers in hops.values():
                p50(session, url, headers, 30)  # warm every path
            pids = stack.pids()
            groups = {
                "nginx": pids["nginx"],
                "gunicorn": stack.worker_pids,
                "relay": pids["relay"],
                "agent": [agent.pid],
                "device": [demo.pid],
                "client": [os.getpid()],
            }
            print(f"code {code}; load average {load()}")
            print(f"{'':26} p50 ms | CPU ms per request: " + " ".join(groups))
            for name, (session, url, headers) in hops.items():
                before = {group: sum(map(cpu_seconds, p)) for group, p in groups.items()}
                median = p50(session, url, headers, args.requests)
                spent = [
                    (sum(map(cpu_seconds, p)) - before[group]) * 1000 / args.requests
                    for group, p in groups.items()
                ]
                print(f"{name:26} {median:6.2f} | " + " ".join(f"{v:5.2f}" for v in spent))
            print(f"load average {load()}")
        finally:
            for process in (agent, demo):
                process.stdin.close()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
