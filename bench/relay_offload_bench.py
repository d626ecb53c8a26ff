"""Relayed requests through the full path with nginx in front (issue 20): the targets.

    BENCH_DATABASE_URL=postgres://... BENCH_REDIS_URL=redis://... \\
        .venv/bin/python bench/relay_offload_bench.py [--mib 100] [--pairs 5] [--small 300] \\
        [--seconds 10] [--slow 1000] [--flood-seconds 10] [--base-agent DIR] [--large-only] \\
        [--base DIR]

On the loopback stack (deploy/loopback.py: Debian's nginx with the shipped files,
gunicorn as the image runs it, one relay node; PostgreSQL and Redis as named), with the
demo device and the agents in processes of their own:

1. A large answer (``--mib``) through nginx (the relay answers nginx itself) versus
   straight from the demo device, pairs in alternating order (A B B A): throughput of
   each, the median (min, max) of the pairs' ratios, the web workers' CPU per answer,
   and the CPU seconds of every process (nginx, relay, agent, demo device, client) per
   answer of each path. With ``--base-agent DIR`` a second agent, on another checkout's
   client code, serves a second device, and each pair reads through both agents
   (A B C C B A); ``--large-only`` stops after this part. Each pair also reads the
   answer through a plain nginx proxying the device straight (bench/nginx_baseline.py:
   the nearest baseline a product can have, two hops), and the relayed answer is read
   against it too.
2. A small relayed GET versus straight, one connection, pairs alternating: p50 of each
   and the median of the pairs' differences (and the nginx baseline's p50, with the
   relayed GET's median difference over it); then with wrk at 16 connections, the
   relayed GET's req/s versus a plain signed-in API GET (``/api/auth/me``) on the same
   stack, runs alternating A B B A.
3. Another tenant's small relayed GET, p50 idle versus while a rogue agent floods its
   tunnel with control frames (and reconnects when closed), alternating.
4. ``--slow`` relayed answers held open at once by one user (the device answers after
   a minute), while another user's API GET and ``/healthz`` are timed: p50 idle versus
   loaded, and the RSS of every process.

With ``--base DIR`` (another checkout, e.g. main's) only part 2 runs, on two stacks side by
side: this checkout's code and DIR's (its own database, BENCH_DATABASE_URL + "_base"; both
with this checkout's nginx files), ``--pairs`` pairs in alternating order, ``--rounds``
requests per p50 and ``--seconds`` per wrk run; then the per-pair ratios this / base.

Targets: 1. >= 80 % of direct, <= 0.01 s web worker CPU per 100 MiB; 2. <= 3 ms p50
overhead, >= 0.8x req/s; 3. <= 1.5x idle; 4. <= 1.2x idle, /healthz p50 <= 50 ms.
Every figure is printed with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nginx_baseline import NginxBaseline  # noqa: E402
from bench.stack import cpu_seconds, rss_kib  # noqa: E402
from deploy.loopback import LoopbackStack  # noqa: E402

MIB = 1024 * 1024
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/visiona_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
NGINX_BASELINE = "nginx->device"  # bench/nginx_baseline.py
SLOW_DEVICES = 10  # an agent serves 100 streams at once per tunnel

SETUP = textwrap.dedent(
    """
    import json, sys, time
    from datetime import timedelta
    from importlib import import_module
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from devices import credentials
    from devices.models import Device, DeviceToken
    from visiona.sessions import start_session_clock

    Store = import_module(settings.SESSION_ENGINE).SessionStore
    run = "RUN_ID"
    out = {"sessions": {}, "devices": {}}
    for name in ("slow", "other", "rogue"):
        user, _ = get_user_model().objects.get_or_create(
            username=f"{name}-{run}", defaults={"oidc_sub": f"sub-{name}-{run}"}
        )
        session = Store()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "visiona.auth.backends.PasswordBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        start_session_clock(session, time.time())
        session.create()
        out["sessions"][name] = session.session_key
        count = {"slow": 1 + SLOW_DEVICES, "other": 1, "rogue": 1}[name]
        devices = []
        for index in range(count):
            device = Device.objects.create(
                owner=user, serial=f"B-{name}-{run}-{index}", name=name, chip="KL720"
            )
            token = credentials.device_token_generate()
            DeviceToken.objects.create(
                token_hash=credentials.device_token_hash(token),
                device=device,
                expires_at=timezone.now() + timedelta(days=1),
            )
            devices.append([str(device.pk), token])
        out["devices"][name] = devices
    print(json.dumps(out))
    """
).replace("SLOW_DEVICES", str(SLOW_DEVICES))

DEMO = textwrap.dedent(
    """
    import sys
    from visiona_client.demo_device import DemoDevice
    demo = DemoDevice().start()
    print(demo.url, flush=True)
    sys.stdin.read()
    """
)
AGENTS = textwrap.dedent(
    """
    import sys, threading, time
    from visiona_client import allocator
    from visiona_client.tunnel import TunnelClient
    allocator.keep_large_blocks()
    url, local_url, tokens = sys.argv[1], sys.argv[2], sys.argv[3:]
    stopping = threading.Event()
    for token in tokens:
        client = TunnelClient(token=token, local_url=local_url, user_agent="bench",
                              tunnel_url=lambda: url, stopping=stopping)
        threading.Thread(target=client.run, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    """
)
# A rogue agent: a valid token, then PING and SETTINGS frames as fast as it can send
# them; closed, it dials again at once (no backoff), until stdin closes.
FLOODER = textwrap.dedent(
    """
    import sys, threading
    import h2.config, h2.connection, hyperframe.frame
    from websockets.sync.client import connect
    url, token = sys.argv[1], sys.argv[2]
    frames = (hyperframe.frame.PingFrame(0, opaque_data=b"flooding").serialize()
              + hyperframe.frame.SettingsFrame(0).serialize()) * 4000
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print("ready", flush=True)
    closed = 0
    while not done.is_set():
        try:
            with connect(url, additional_headers={"Authorization": "Bearer " + token},
                         open_timeout=5, max_size=None) as ws:
                conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
                conn.initiate_connection()
                ws.send(conn.data_to_send())
                while not done.is_set():
                    ws.send(frames)
        except Exception:
            closed += 1
    print(closed, flush=True)
    """
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def client_process(script: str, *args: str, code: Path = ROOT) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(code / "client")}
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def wait_tunnels(stack: LoopbackStack, count: int) -> None:
    secret = stack.env["RELAY_INTERNAL_SECRET"]
    url = stack.relay_internal_urls[0] + "/sessions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(requests.get(url, headers={"X-Relay-Secret": secret}).json()["sessions"]) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError("the agents did not connect")


def worker_cpu(stack: LoopbackStack) -> float:
    return sum(cpu_seconds(pid) for pid in stack.worker_pids)


def timed_get(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url, timeout=60)
    response.raise_for_status()
    response.content  # noqa: B018
    return (time.perf_counter() - started) * 1000


def fetch_large(url: str, session: requests.Session) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    with session.get(url, stream=True, timeout=300) as response:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            total += len(chunk)
    return time.perf_counter() - started, total


def bench_large(
    stack,
    browser,
    relayed: dict[str, str],
    direct: str,
    mib: int,
    pairs: int,
    processes: dict[str, list[int]],
    baseline: str | None = None,
) -> None:
    """``relayed``: name -> URL (one device per agent); each pair reads direct and every
    relayed URL, in alternating order (A B C C B A). ``processes``: the CPU seconds of
    each group of processes (by name) are reported per answer of each path.
    ``baseline``: the name of one of ``relayed`` (nginx proxying the device straight)
    that the others are also read against, pair by pair."""
    print(f"\n1. a {mib} MiB answer through nginx versus straight from the device, {pairs} pairs")
    plain = requests.Session()
    urls = {"direct": (direct, plain), **{name: (url, browser) for name, url in relayed.items()}}
    for url, session in urls.values():
        fetch_large(url, session)  # warm every path
    names = list(urls)
    speeds = {name: [] for name in names}
    ratios = {name: [] for name in relayed}
    cpu = {name: [] for name in relayed}
    split = {name: {group: [] for group in processes} for name in names}
    of_baseline = {name: [] for name in relayed if baseline is not None and name != baseline}
    for index in range(pairs):
        pair = {}
        for name in names if index % 2 == 0 else names[::-1]:
            url, session = urls[name]
            before = worker_cpu(stack)
            groups_before = {g: sum(map(cpu_seconds, pids)) for g, pids in processes.items()}
            seconds, total = fetch_large(url, session)
            assert total == mib * MIB, total
            pair[name] = seconds
            speeds[name].append(mib / seconds)
            for group, pids in processes.items():
                split[name][group].append(sum(map(cpu_seconds, pids)) - groups_before[group])
            if name in cpu:
                cpu[name].append(worker_cpu(stack) - before)
        for name in relayed:
            ratios[name].append(pair["direct"] / pair[name])
            if baseline is not None and name != baseline:
                of_baseline[name].append(pair[baseline] / pair[name])
    for name, values in speeds.items():
        print(
            f"   {name:8} median {statistics.median(values):7.1f} MiB/s "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )
    for name, values in ratios.items():
        target = "" if name == baseline else "  target >= 80 %"
        print(
            f"   {name} = {statistics.median(values) * 100:.0f} % of direct (median of pairs; "
            f"min {min(values) * 100:.0f} %, max {max(values) * 100:.0f} %){target}"
        )
        if name == baseline:
            continue
        per_100 = statistics.median(cpu[name]) * 100 / mib
        print(
            f"   web workers' CPU per 100 MiB ({name}): {per_100:.4f} s (median)  target <= 0.01 s"
        )
    for name, values in of_baseline.items():
        print(
            f"   {name} = {statistics.median(values) * 100:.0f} % of {baseline} (median of "
            f"pairs; min {min(values) * 100:.0f} %, max {max(values) * 100:.0f} %)"
        )
    for name in names:
        print(
            f"   CPU seconds per answer, {name} (median): "
            + ", ".join(f"{g} {statistics.median(v):.3f}" for g, v in split[name].items())
        )
    print(f"   load average: {load()}")


def bench_small(
    browser, relayed: str, direct: str, rounds: int, baseline: str | None = None
) -> None:
    print(f"\n2a. a small relayed GET versus straight, one connection, {rounds} rounds (ms)")
    plain = requests.Session()
    paths = [("relayed", relayed, browser), ("direct", direct, plain)]
    if baseline is not None:
        paths.append((NGINX_BASELINE, baseline, requests.Session()))
    for _ in range(30):
        for _name, url, session in paths:
            timed_get(session, url)
    times = {name: [] for name, _url, _session in paths}
    differences, over_baseline = [], []
    for index in range(rounds):
        order = paths if index % 2 == 0 else paths[::-1]
        pair = {name: timed_get(session, url) for name, url, session in order}
        for name, value in pair.items():
            times[name].append(value)
        differences.append(pair["relayed"] - pair["direct"])
        if baseline is not None:
            over_baseline.append(pair["relayed"] - pair[NGINX_BASELINE])
    for name, values in times.items():
        print(
            f"   {name:8} p50 {percentile(values, 0.5):6.2f}  p99 {percentile(values, 0.99):6.2f}"
        )
    print(
        f"   overhead: median of pairs {statistics.median(differences):.2f} ms "
        f"(target <= 3 ms); load {load()}"
    )
    if over_baseline:
        median = statistics.median(over_baseline)
        print(f"   over {NGINX_BASELINE}: median of rounds {median:.2f} ms")


def wrk(url: str, cookie: str, seconds: int, connections: int = 16) -> float:
    out = subprocess.run(
        ["wrk", "-t4", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"   (wrk: {errors.group(1)} non-2xx answers on {url})")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def bench_small_many(cookie: str, relayed: str, plain_api: str, seconds: int) -> None:
    print(f"\n2b. 16 connections (wrk, {seconds} s runs, A B B A)")
    runs = {"relayed": [], "api": []}
    for name in ("relayed", "api", "api", "relayed"):
        runs[name].append(wrk(relayed if name == "relayed" else plain_api, cookie, seconds))
    relayed_rps, api_rps = statistics.mean(runs["relayed"]), statistics.mean(runs["api"])
    print(
        f"   relayed GET {relayed_rps:.0f} req/s {runs['relayed']}, signed-in API GET "
        f"{api_rps:.0f} req/s {runs['api']}: ratio {relayed_rps / api_rps:.2f} "
        f"(target >= 0.8); load {load()}"
    )


def p50_of(session: requests.Session, url: str, count: int) -> float:
    return percentile([timed_get(session, url) for _ in range(count)], 0.5)


def floods_logged(stack) -> int:
    """Tunnels the relay nodes closed for a control-frame flood, from their logs."""
    return sum(
        path.read_text(errors="replace").count("control frame flood")
        for path in stack.work.glob("relay-*.log")
    )


def bench_flood(stack, other, other_url: str, rogue_token: str, seconds: int) -> None:
    print(f"\n3. another tenant's relayed GET while a rogue agent floods ({seconds} s rounds)")
    results = {"idle": [], "flood": []}
    for phase in ("idle", "flood", "flood", "idle"):
        flooder = None
        if phase == "flood":
            flooder, _ready = client_process(FLOODER, stack.tunnel_url, rogue_token)
        deadline, values = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            values.append(timed_get(other, other_url))
        results[phase] += values
        if flooder is not None:
            flooder.stdin.close()
            seen = flooder.stdout.readline().strip()
            flooder.wait(timeout=30)
            # The relay's own count: a flooder blocked in a send when its round ends may
            # never see the close it caused.
            print(
                f"   the relay closed the rogue agent's tunnel {floods_logged(stack)} times "
                f"so far (the flooder saw {seen} closes this round)"
            )
    idle, flood = percentile(results["idle"], 0.5), percentile(results["flood"], 0.5)
    print(
        f"   p50 idle {idle:.2f} ms, flooding {flood:.2f} ms: {flood / idle:.2f}x "
        f"(target <= 1.5x); load {load()}"
    )


def open_slow(stack, cookie: str, paths: list[str]) -> list[socket.socket]:
    sockets = []
    for path in paths:
        sock = socket.create_connection(("127.0.0.1", stack.nginx_port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode())
        sockets.append(sock)
    return sockets


def bench_slow(stack, slow_cookie, other, slow_devices, count: int, rounds: int) -> None:
    print(f"\n4. {count} slow relayed answers open at once; another user's API GET and /healthz")
    api, health = stack.url("/api/auth/me"), stack.url("/healthz")
    plain = requests.Session()
    for _ in range(30):
        timed_get(other, api)
    idle_api, idle_health = [], []
    loaded_api, loaded_health = [], []
    idle_api.append(p50_of(other, api, rounds))
    idle_health.append(p50_of(plain, health, rounds))
    paths = [
        f"/api/devices/{slow_devices[i % len(slow_devices)]}/agent/api/demo/blob?bytes=1&delay=60"
        for i in range(count)
    ]
    sockets = open_slow(stack, slow_cookie, paths)
    time.sleep(5)  # every request reached nginx, the app and the relay
    loaded_api.append(p50_of(other, api, rounds))
    loaded_health.append(p50_of(plain, health, rounds))
    rss = {
        role: [round(rss_kib(pid) / 1024, 1) for pid in pids] for role, pids in stack.pids().items()
    }
    for sock in sockets:
        sock.close()
    time.sleep(3)
    idle_api.append(p50_of(other, api, rounds))
    idle_health.append(p50_of(plain, health, rounds))
    idle, loaded = statistics.mean(idle_api), statistics.mean(loaded_api)
    print(
        f"   API GET p50 idle {idle:.2f} ms, with {count} open {loaded:.2f} ms: "
        f"{loaded / idle:.2f}x (target <= 1.2x)"
    )
    print(
        f"   /healthz p50 idle {statistics.mean(idle_health):.2f} ms, loaded "
        f"{statistics.mean(loaded_health):.2f} ms (target <= 50 ms)"
    )
    print(f"   RSS while open (MiB): {rss}; load {load()}")


def small_side_by_side(stacks: dict, rounds: int, pairs: int, seconds: int) -> None:
    """Part 2 on two stacks, this checkout's code and ``--base``'s, in the same run:
    ``pairs`` pairs in alternating order (A B B A ...); per pair, ``rounds`` small GETs
    through each stack (relayed and straight to that stack's demo device, interleaved)
    and a wrk run of each at 16 connections, relayed and a plain API GET."""
    print(f"\n2. a small relayed GET, this code against the base, {pairs} pairs")
    names = list(stacks)
    for side in stacks.values():
        for _ in range(30):
            timed_get(side["browser"], side["small"])
            timed_get(side["plain"], side["direct"])
    p50s = {name: {"relayed": [], "direct": [], "overhead": []} for name in names}
    rps = {name: {"relayed": [], "api": []} for name in names}
    loads = []
    for index in range(pairs):
        loads.append(os.getloadavg()[0])
        for name in names if index % 2 == 0 else names[::-1]:
            side = stacks[name]
            times = {"relayed": [], "direct": []}
            for round_index in range(rounds):
                order = [("relayed", side["small"], side["browser"])]
                order.append(("direct", side["direct"], side["plain"]))
                for kind, url, session in order if round_index % 2 == 0 else order[::-1]:
                    times[kind].append(timed_get(session, url))
            relayed, direct = percentile(times["relayed"], 0.5), percentile(times["direct"], 0.5)
            p50s[name]["relayed"].append(relayed)
            p50s[name]["direct"].append(direct)
            p50s[name]["overhead"].append(relayed - direct)
            for kind in ("relayed", "api") if index % 2 == 0 else ("api", "relayed"):
                url = side["small"] if kind == "relayed" else side["api"]
                rps[name][kind].append(wrk(url, side["cookie"], seconds))
    for name in names:
        line = ", ".join(
            f"{kind} p50 {statistics.median(values):.2f} ms {[round(v, 2) for v in values]}"
            for kind, values in p50s[name].items()
        )
        print(f"   {name}: {line}")
        ratios = [r / a for r, a in zip(rps[name]["relayed"], rps[name]["api"], strict=True)]
        print(
            f"   {name}: 16 connections relayed {statistics.median(rps[name]['relayed']):.0f} "
            f"req/s {rps[name]['relayed']}, API GET {statistics.median(rps[name]['api']):.0f} "
            f"{rps[name]['api']}; relayed / API median {statistics.median(ratios):.2f} "
            f"(min {min(ratios):.2f}, max {max(ratios):.2f})"
        )
    if len(names) == 2:
        this, base = names

        def spread(values: list[float]) -> str:
            return (
                f"median {statistics.median(values):.2f} "
                f"(min {min(values):.2f}, max {max(values):.2f})"
            )

        def per_pair(kind: str, table: dict) -> list[float]:
            return [a / b for a, b in zip(table[this][kind], table[base][kind], strict=True)]

        print(f"   ratio {this} / {base} per pair:")
        print(f"     relayed p50 {spread(per_pair('relayed', p50s))}")
        print(f"     overhead over direct {spread(per_pair('overhead', p50s))}")
        print(f"     relayed req/s at 16 connections {spread(per_pair('relayed', rps))}")
        print(f"     API GET req/s at 16 connections {spread(per_pair('api', rps))}")
    print(f"   load average at each pair's start: {[round(v, 2) for v in loads]}; now {load()}")


def start_side(stack: LoopbackStack, code: Path) -> dict:
    """One stack's users, device, demo device and agent (its own checkout's client code)."""
    run = f"{os.getpid()}-{int(time.time())}"
    script = SETUP.replace("RUN_ID", run)
    setup = json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
    demo, demo_url = client_process(DEMO, code=code)
    device, token = setup["devices"]["other"][0]
    agents, _ = client_process(AGENTS, stack.tunnel_url, demo_url, token, code=code)
    wait_tunnels(stack, 1)
    browser = requests.Session()
    browser.cookies.set("visiona_session", setup["sessions"]["other"])
    return {
        "processes": [agents, demo],
        "browser": browser,
        "plain": requests.Session(),
        "cookie": f"visiona_session={setup['sessions']['other']}",
        "small": stack.url(f"/api/devices/{device}/agent/api/system/deps"),
        "direct": f"{demo_url}/api/system/deps",
        "api": stack.url("/api/auth/me"),
    }


def main_side_by_side(args, env: dict[str, str]) -> None:
    stacks = {"this": LoopbackStack(database_url=DATABASE_URL, redis_url=REDIS_URL, env=env)}
    stacks["base"] = LoopbackStack(
        database_url=DATABASE_URL + "_base",
        redis_url=REDIS_URL,
        env=env,
        code_root=args.base,
        static_root=stacks["this"].static_root,
    )
    sides: dict[str, dict] = {}
    try:
        for name, stack in stacks.items():
            stack.start()
            sides[name] = start_side(stack, ROOT if name == "this" else args.base)
        print(f"load average {load()}")
        small_side_by_side(sides, args.rounds, args.pairs, args.seconds)
    finally:
        for side in sides.values():
            for process in side["processes"]:
                process.stdin.close()
                process.wait(timeout=10)
        for stack in stacks.values():
            stack.stop()
            stack.remove()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--small", type=int, default=300, help="pairs of small requests")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--flood-seconds", type=int, default=10)
    parser.add_argument("--slow", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200, help="requests per p50")
    parser.add_argument(
        "--base-agent",
        type=Path,
        help="another checkout whose agent (e.g. main's, before the side channel) serves a "
        "second device: the large answer through both agents in the same pairs",
    )
    parser.add_argument("--large-only", action="store_true", help="the large answer alone")
    parser.add_argument(
        "--base",
        type=Path,
        help="another checkout (e.g. main's): the small GET alone, on a second stack running "
        "its code (database BENCH_DATABASE_URL + '_base'), side by side with this one",
    )
    args = parser.parse_args()

    env = {
        "RELAY_MAX_EXCHANGES_PER_USER": str(args.slow + 100),
        "RELAY_MAX_EXCHANGES_PER_DEVICE": str(args.slow + 100),
        "RELAY_REQUEST_TIMEOUT_SECONDS": "600",
        "RELAY_IDLE_TIMEOUT_SECONDS": "600",
    }
    if args.base:
        main_side_by_side(args, env)
        return
    with LoopbackStack(database_url=DATABASE_URL, redis_url=REDIS_URL, env=env) as stack:
        run = f"{os.getpid()}-{int(time.time())}"
        script = SETUP.replace("RUN_ID", run)
        setup = json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        cookie_name = "visiona_session"
        cookies = {name: f"{cookie_name}={key}" for name, key in setup["sessions"].items()}
        demo, demo_url = client_process(DEMO)
        slow_tokens = [token for _id, token in setup["devices"]["slow"]]
        other_token = setup["devices"]["other"][0][1]
        base_agent = None
        if args.base_agent:
            # The last slow device is the base agent's (the slow part uses the others).
            base_agent, _ = client_process(
                AGENTS, stack.tunnel_url, demo_url, slow_tokens.pop(), code=args.base_agent
            )
        agents, _ = client_process(AGENTS, stack.tunnel_url, demo_url, *slow_tokens, other_token)
        baseline = NginxBaseline(demo_url).__enter__()
        try:
            wait_tunnels(stack, len(slow_tokens) + 1 + (base_agent is not None))
            browser = requests.Session()
            browser.cookies.set(cookie_name, setup["sessions"]["slow"])
            other = requests.Session()
            other.cookies.set(cookie_name, setup["sessions"]["other"])
            device = setup["devices"]["slow"][0][0]
            relayed = stack.url(f"/api/devices/{device}/agent/api/demo/blob?bytes={args.mib * MIB}")
            direct = f"{demo_url}/api/demo/blob?bytes={args.mib * MIB}"
            print(f"stack {stack.base_url}; load average {load()}")
            paths = {"relayed": relayed, NGINX_BASELINE: baseline.url(direct[len(demo_url) :])}
            if base_agent is not None:
                base_device = setup["devices"]["slow"][-1][0]
                paths["base agent"] = relayed.replace(device, base_device)
            pids = stack.pids()
            processes = {
                "nginx": pids.get("nginx", []),
                "relay": pids.get("relay", []),
                "agent": [agents.pid],
                **({"base agent": [base_agent.pid]} if base_agent is not None else {}),
                NGINX_BASELINE: baseline.pids(),
                "demo device": [demo.pid],
                "client": [os.getpid()],
            }
            bench_large(
                stack, browser, paths, direct, args.mib, args.pairs, processes, NGINX_BASELINE
            )
            if args.large_only:
                return
            small = stack.url(f"/api/devices/{device}/agent/api/system/deps")
            bench_small(
                browser,
                small,
                f"{demo_url}/api/system/deps",
                args.small,
                baseline.url("/api/system/deps"),
            )
            bench_small_many(cookies["slow"], small, stack.url("/api/auth/me"), args.seconds)
            other_device = setup["devices"]["other"][0][0]
            other_url = stack.url(f"/api/devices/{other_device}/agent/api/system/deps")
            bench_flood(
                stack, other, other_url, setup["devices"]["rogue"][0][1], args.flood_seconds
            )
            slow_devices = [device_id for device_id, _token in setup["devices"]["slow"][1:]]
            if base_agent is not None:
                slow_devices.pop()
            bench_slow(stack, cookies["slow"], other, slow_devices, args.slow, args.rounds)
        finally:
            baseline.__exit__(None, None, None)
            for process in (agents, demo, base_agent):
                if process is None:
                    continue
                process.stdin.close()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()  # its workers still wait on the slow answers
                    process.wait(timeout=10)
            print(f"\nlogs and config: {stack.work}")


if __name__ == "__main__":
    main()
