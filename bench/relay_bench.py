"""The tunnel relay's benchmarks (issue 11): overhead, a large answer, many tunnels.

    .venv/bin/python bench/relay_bench.py [--small N] [--mib M] [--pairs P] [--tunnels T] \
        [--base DIR]

Everything runs on loopback in a temporary data folder (SQLite, no Redis): a relay
node (`manage.py run_relay`) in its own process, agents in their own processes
(`visiona_client.tunnel.TunnelClient` with the allocator set as `visiona-agent run`
sets it; no web server: the tunnel URL is given), the demo device in a process of
its own (as a device's local API is), and this process as the internal port's client.

1. A small JSON request (`GET /api/system/deps` of the demo device) through the
   relay's internal port versus straight to the demo device, same client, pairs in
   alternating order: p50 and p99 of each, and the median of the pairs' differences.
2. An M MiB answer (`/api/demo/blob`) through the tunnel versus straight, P pairs in
   alternating order: throughput of each, the median (min, max) of the pairs' ratios,
   the CPU seconds each process spends on one answer, and the relay's RSS growth.
   With ``--base DIR`` (another checkout, e.g. ``git worktree add --detach /tmp/base
   main``), a second relay node and agent run that checkout's code beside this one's
   (same demo device, same database) and every pair reads direct, this code's relay
   and the base's, in alternating order (A B C C B A).
3. T idle tunnels on one relay process: its RSS; then 100 concurrent requests spread
   over 100 of those devices: errors, p50 and p99.
``--small 0`` and ``--tunnels 0`` skip parts 1 and 3.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
SECRET = "bench-relay-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def django_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DEBUG": "1",
        "VISIONA_DATA_DIR": str(data_dir),
        "RELAY_INTERNAL_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "visiona.settings",
    }
    return env


def make_devices(count: int) -> list[tuple[str, str]]:
    """``count`` paired devices of one user: (device id, plain token) each."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from devices import credentials
    from devices.models import Device, DeviceToken

    user, _ = get_user_model().objects.get_or_create(username="bench")
    devices = Device.objects.bulk_create(
        [
            Device(owner=user, serial=f"BENCH-{i:05d}", name=f"bench {i}", chip="KL720")
            for i in range(count)
        ]
    )
    tokens = [credentials.device_token_generate() for _ in devices]
    expires = timezone.now() + timedelta(days=1)
    DeviceToken.objects.bulk_create(
        [
            DeviceToken(token_hash=credentials.device_token_hash(t), device=d, expires_at=expires)
            for d, t in zip(devices, tokens, strict=True)
        ]
    )
    return [(str(d.pk), t) for d, t in zip(devices, tokens, strict=True)]


# The local device API is a program of its own on a device, so the demo device runs in
# a process of its own here too: "direct" and "through the tunnel" read the same server.
DEMO_SCRIPT = textwrap.dedent(
    """
    import sys
    from visiona_client.demo_device import DemoDevice
    demo = DemoDevice().start()
    print(demo.url, flush=True)
    sys.stdin.read()
    """
)

# What `visiona-agent run` does before it dials: the allocator set for large buffers.
AGENT_SCRIPT = textwrap.dedent(
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
        time.sleep(0.002)
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def _client_process(script: str, *args: str, code: Path = ROOT) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(code / "client")}
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def start_demo() -> tuple[subprocess.Popen, str]:
    return _client_process(DEMO_SCRIPT)


def start_agents(tunnel_url: str, local_url: str, tokens: list[str]) -> subprocess.Popen:
    return _client_process(AGENT_SCRIPT, tunnel_url, local_url, *tokens)[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_sessions(internal: str, count: int, timeout: float) -> int:
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        seen = len(
            requests.get(f"{internal}/sessions", headers={"X-Relay-Secret": SECRET}).json()[
                "sessions"
            ]
        )
        if seen >= count:
            return seen
        time.sleep(0.5)
    return seen


def bench_small(session: requests.Session, relayed: str, direct: str, rounds: int) -> None:
    for url in (relayed, direct):  # warm both paths
        for _ in range(20):
            session.get(url).raise_for_status()
    times = {"relay": [], "direct": []}
    differences = []
    for index in range(rounds):
        order = [("relay", relayed), ("direct", direct)]
        if index % 2:
            order.reverse()
        pair = {}
        for name, url in order:
            started = time.perf_counter()
            session.get(url).raise_for_status()
            pair[name] = (time.perf_counter() - started) * 1000
            times[name].append(pair[name])
        differences.append(pair["relay"] - pair["direct"])
    print(f"\n1. small JSON request, {rounds} pairs (ms)")
    for name, values in times.items():
        print(
            f"   {name:6} p50 {percentile(values, 0.5):6.2f}  p99 {percentile(values, 0.99):6.2f}"
        )
    print(
        f"   overhead: median of pairs {statistics.median(differences):.2f} ms, "
        f"p99 {percentile(differences, 0.99):.2f} ms"
    )


def fetch_large(url: str, mib: int, relay_pid: int) -> tuple[float, float]:
    """Seconds to read the answer, and the relay's peak RSS meanwhile (MiB)."""
    peak = 0.0
    started = time.perf_counter()
    with requests.get(
        f"{url}?bytes={mib * MIB}", stream=True, headers={"X-Relay-Secret": SECRET}
    ) as r:
        total = 0
        for index, chunk in enumerate(r.iter_content(1024 * 1024)):
            total += len(chunk)
            if index % 8 == 0:
                peak = max(peak, rss_mib(relay_pid))
    seconds = time.perf_counter() - started
    assert total == mib * MIB, total
    return seconds, peak


def bench_large(
    paths: dict[str, tuple[str, dict[str, int]]], direct: str, mib: int, pairs: int
) -> None:
    """``paths``: name -> (URL, the processes it runs through: name -> pid; the first is
    the relay). Each pair reads direct and every path, in alternating order."""
    print(f"\n2. a {mib} MiB answer, {pairs} pairs")
    names = ["direct", *paths]
    urls = {"direct": direct, **{name: url for name, (url, _pids) in paths.items()}}
    relay_pid = next(iter(next(iter(paths.values()))[1].values()))
    for name in names:  # warm every path
        fetch_large(urls[name], mib, relay_pid)
    ratios: dict[str, list[float]] = {name: [] for name in paths}
    speeds: dict[str, list[float]] = {name: [] for name in names}
    growth: dict[str, list[float]] = {name: [] for name in paths}
    cpu = {name: {process: [] for process in pids} for name, (_url, pids) in paths.items()}
    for index in range(pairs):
        order = names if index % 2 == 0 else names[::-1]
        pair = {}
        for name in order:
            pids = paths[name][1] if name in paths else {}
            watched = next(iter(pids.values()), relay_pid)
            rss_before = rss_mib(watched)
            cpu_before = {process: cpu_seconds(pid) for process, pid in pids.items()}
            pair[name], peak = fetch_large(urls[name], mib, watched)
            speeds[name].append(mib / pair[name])
            if name in paths:
                growth[name].append(peak - rss_before)
                for process, pid in pids.items():
                    cpu[name][process].append(cpu_seconds(pid) - cpu_before[process])
        for name in paths:
            ratios[name].append(pair["direct"] / pair[name])
    for name, values in speeds.items():
        print(
            f"   {name:10} median {statistics.median(values):7.1f} MiB/s"
            f"  (min {min(values):.1f}, max {max(values):.1f})"
        )
    for name, values in ratios.items():
        print(
            f"   {name} throughput = {statistics.median(values) * 100:.0f} % of direct "
            f"(median of pairs; min {min(values) * 100:.0f} %, max {max(values) * 100:.0f} %)"
        )
        print(
            f"   CPU seconds per answer through {name} (median): "
            + ", ".join(f"{process} {statistics.median(v):.3f}" for process, v in cpu[name].items())
        )
        print(f"   {name} RSS growth while streaming: max {max(growth[name]):.1f} MiB")
    print(f"   load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def bench_many(
    relay_pid: int,
    internal: str,
    devices: list[tuple[str, str]],
    tunnel_url: str,
    local_url: str,
) -> list:
    print(f"\n3. {len(devices)} idle tunnels on one relay process")
    rss_idle = rss_mib(relay_pid)
    agents = []
    per_process = 250
    started = time.monotonic()
    for start in range(0, len(devices), per_process):
        tokens = [t for _d, t in devices[start : start + per_process]]
        agents.append(start_agents(tunnel_url, local_url, tokens))
    seen = wait_sessions(internal, len(devices), timeout=180)
    print(f"   {seen} tunnels up in {time.monotonic() - started:.1f} s")
    time.sleep(3)
    rss = rss_mib(relay_pid)
    print(f"   relay RSS {rss:.1f} MiB (before the tunnels: {rss_idle:.1f} MiB)")
    targets = [d for d, _t in devices[:100]]

    def one(device_id: str) -> tuple[bool, float]:
        begun = time.perf_counter()
        try:
            r = requests.get(
                f"{internal}/devices/{device_id}/api/system/deps",
                headers={"X-Relay-Secret": SECRET},
                timeout=30,
            )
            ok = r.status_code == 200
        except requests.RequestException:
            ok = False
        return ok, (time.perf_counter() - begun) * 1000

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, targets))
    latencies = [ms for _ok, ms in results]
    errors = sum(1 for ok, _ms in results if not ok)
    print(
        f"   100 concurrent requests over 100 devices: {errors} errors, "
        f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
    )
    return agents


def start_relay(code: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str, str]:
    """A relay node on ``code``'s checkout: the process, its tunnel URL and internal URL."""
    tunnel_port, internal_port = free_port(), free_port()
    relay = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_relay",
            "--tunnel-port",
            str(tunnel_port),
            "--internal-port",
            str(internal_port),
        ],
        cwd=code,
        env={**env, "LOG_LEVEL": "INFO", **code_path(code)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return relay, f"ws://127.0.0.1:{tunnel_port}/tunnel", f"http://127.0.0.1:{internal_port}"


def code_path(code: Path) -> dict[str, str]:
    """A checkout's code first on the path (its client before the installed one)."""
    return {"PYTHONPATH": f"{code}:{code / 'client'}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=500, help="pairs of small requests")
    parser.add_argument("--mib", type=int, default=100, help="size of the large answer")
    parser.add_argument("--pairs", type=int, default=10, help="pairs of large answers")
    parser.add_argument("--tunnels", type=int, default=1000, help="idle tunnels")
    parser.add_argument(
        "--base",
        type=Path,
        help="another checkout (e.g. `git worktree add --detach /tmp/base main`): its relay "
        "and agent beside this one's, the large answer through both in the same pairs",
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    env = django_env(data_dir)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "client"))
    import django

    django.setup()
    devices = make_devices(2 + args.tunnels)

    relay, tunnel_url, internal = start_relay(ROOT, env, data_dir / "relay.log")
    print(f"relay log: {data_dir / 'relay.log'}")
    agents = []
    base_relay = None
    try:
        time.sleep(3)
        first_id, first_token = devices[0]
        demo, demo_url = start_demo()
        agents.append(demo)
        agent = start_agents(tunnel_url, demo_url, [first_token])
        agents.append(agent)
        wait_sessions(internal, 1, timeout=30)
        print(f"relay pid {relay.pid}: RSS {rss_mib(relay.pid):.1f} MiB with one tunnel")
        blob = "/api/demo/blob"
        paths = {
            "relay": (
                f"{internal}/devices/{first_id}{blob}",
                {
                    "relay": relay.pid,
                    "agent": agent.pid,
                    "demo device": demo.pid,
                    "client": os.getpid(),
                },
            )
        }
        if args.base:
            base_relay, base_tunnel, base_internal = start_relay(
                args.base, env, data_dir / "base-relay.log"
            )
            time.sleep(3)
            base_id, base_token = devices[1]
            base_agent = _client_process(
                AGENT_SCRIPT, base_tunnel, demo_url, base_token, code=args.base
            )[0]
            agents.append(base_agent)
            wait_sessions(base_internal, 1, timeout=30)
            paths["base relay"] = (
                f"{base_internal}/devices/{base_id}{blob}",
                {
                    "relay": base_relay.pid,
                    "agent": base_agent.pid,
                    "demo device": demo.pid,
                    "client": os.getpid(),
                },
            )

        session = requests.Session()
        session.headers["X-Relay-Secret"] = SECRET
        if args.small:
            bench_small(
                session,
                f"{internal}/devices/{first_id}/api/system/deps",
                f"{demo_url}/api/system/deps",
                args.small,
            )
        bench_large(paths, f"{demo_url}{blob}", args.mib, args.pairs)
        if args.tunnels:
            agents += bench_many(relay.pid, internal, devices[2:], tunnel_url, demo_url)
    finally:
        for agent in agents:
            agent.kill()
        for process in (relay, base_relay):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
