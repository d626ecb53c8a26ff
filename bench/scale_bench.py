"""Ten thousand devices on one relay node (issue 26): what being connected costs.

    .venv/bin/python bench/scale_bench.py [--devices 10000] [--steady 120]
        [--heartbeats new|old|none] [--no-restart] [--redis private|bench]

The production-like stack (``bench/stack.py``: gunicorn gthread, DEBUG=0, PostgreSQL at
``BENCH_DATABASE_URL``), one relay node (``manage.py run_relay``) and the load agent
(``bench/load_agent.py``: every device's agent in one asyncio process) with N devices
whose tokens are made directly in the benchmark's database. Redis: a private
``redis-server`` (default), so that ``INFO commandstats`` counts this run's commands
only; ``--redis bench`` uses ``BENCH_REDIS_URL`` (a shared server's counters then
include everyone's).

1. Ramp: the agents dial at the relay's handshake rate; the time until all are up.
2. Steady state (``--steady`` seconds, all idle, heartbeats as ``--heartbeats``): the
   relay's RSS per tunnel and CPU, Redis commands/s by command, database transactions
   and rows written per second (``pg_stat_database``, ``pg_stat_user_tables``), the web
   tier's CPU (gunicorn's processes) and per heartbeat; 100 concurrent relayed
   requests; ``/healthz`` latency (a database connection and a Redis ping).
3. Restart (unless ``--no-restart``): SIGTERM the relay, start it again on the same
   ports; the time until every agent is back, the 503s and other failures the agents
   saw, and Redis, database, relay and web load during the storm, ``/healthz`` latency.

Figures are printed per the run's N and scaled to 10,000 devices. The soft limit of
open files is raised to the hard one (a tunnel is a socket at each end): say so.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_agent import raise_file_limit
from scale_metrics import (
    PrivateRedis,
    cpu_seconds,
    database_stats,
    load_average,
    open_files,
    redis_calls,
    redis_memory,
    rss_kib,
    vacuum_devices,
)
from stack import DATABASE_URL, PYTHON, REDIS_URL, ROOT, Stack, children, free_port

SECRET = "scale-bench-relay-secret-" + "s" * 40
PROBE_SECONDS = 15.0

DJANGO_SETUP = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")
django.setup()
"""
MAKE_DEVICES = (
    DJANGO_SETUP
    + """
import sys, uuid
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from devices import credentials
from devices.models import Device, DeviceToken
count, name = int(sys.argv[1]), sys.argv[2]
user = get_user_model().objects.create(username=name, oidc_sub="sub-" + name)
tag = uuid.uuid4().hex[:8]
devices = Device.objects.bulk_create(
    [Device(owner=user, serial=f"SCALE-{tag}-{i:06d}", name=f"scale {i}", chip="KL720")
     for i in range(count)], batch_size=2000)
tokens = [credentials.device_token_generate() for _ in devices]
expires = timezone.now() + timedelta(days=1)
DeviceToken.objects.bulk_create(
    [DeviceToken(token_hash=credentials.device_token_hash(t), device=d, expires_at=expires)
     for d, t in zip(devices, tokens)], batch_size=2000)
for device, token in zip(devices, tokens):
    print(device.pk, token)
"""
)
REMOVE_USER = (
    DJANGO_SETUP
    + """
import sys
from django.contrib.auth import get_user_model
get_user_model().objects.filter(username=sys.argv[1]).delete()
"""
)


class AgentProcess:
    """The load agent, its latest counters read from its output in a thread."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(ROOT / "bench/load_agent.py"), *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.latest: dict = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.latest = json.loads(line)

    def wait_connected(self, count: int, timeout: float) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.latest.get("connected", 0) >= count:
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


class Relay:
    def __init__(self, env: dict, log: Path, profile: str = "") -> None:
        self.env = {**env, "LOG_LEVEL": "WARNING"}
        self.log = log
        self.profile = profile
        self.tunnel_port, self.internal_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None

    @property
    def tunnel_url(self) -> str:
        return f"ws://127.0.0.1:{self.tunnel_port}/tunnel"

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}"

    def start(self) -> Relay:
        command = [PYTHON, "manage.py", "run_relay", "--tunnel-port", str(self.tunnel_port)]
        if self.profile:  # the event loop's CPU profile, around the steady state
            command[1:3] = [str(ROOT / "bench/profiled_relay.py")]
            self.env["BENCH_PROFILE_OUT"] = self.profile
        command += ["--internal-port", str(self.internal_port)]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=log
            )
        self.process.stdout.readline()  # "relay ready: ..."
        return self

    def signal_profile(self, signum: int) -> None:
        if self.profile:
            self.process.send_signal(signum)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


class Sample:
    """Counters at one moment, to subtract."""

    def __init__(self, *, relay: Relay, stack: Stack, agent: AgentProcess, redis_url: str) -> None:
        self.at = time.monotonic()
        self.relay_cpu = cpu_seconds(relay.process.pid)
        self.web_cpu = sum(cpu_seconds(pid) for pid in [stack.app.pid, *children(stack.app.pid)])
        self.agent_cpu = cpu_seconds(agent.process.pid)
        self.redis = redis_calls(redis_url)
        self.database = database_stats(DATABASE_URL)
        self.agent = dict(agent.latest)


def report_window(title: str, before: Sample, after: Sample, devices: int) -> dict:
    seconds = after.at - before.at
    scale = 10_000 / devices
    redis = {
        name: after.redis.get(name, 0) - before.redis.get(name, 0)
        for name in after.redis
        if name != "info"  # this benchmark's own reads
    }
    redis = {name: calls for name, calls in redis.items() if calls}
    database = after.database.minus(before.database)
    beats = after.agent.get("heartbeats", 0) - before.agent.get("heartbeats", 0)
    web = after.web_cpu - before.web_cpu
    figures = {
        "seconds": round(seconds, 1),
        "relay CPU, % of one core": 100 * (after.relay_cpu - before.relay_cpu) / seconds,
        "load agent CPU, % of one core": 100 * (after.agent_cpu - before.agent_cpu) / seconds,
        "web CPU, % of one core": 100 * web / seconds,
        "heartbeats/s": beats / seconds,
        "web CPU per heartbeat, ms": 1000 * web / beats if beats else float("nan"),
        "Redis commands/s": sum(redis.values()) / seconds,
        "database transactions/s": database.commits / seconds,
        "database rows written/s": database.written / seconds,
        "database rows read/s": (database.returned + database.fetched) / seconds,
    }
    print(f"\n{title}: {seconds:.0f} s, load average {load_average()}")
    for name, value in figures.items():
        per = "" if name == "seconds" else f"   (per 10,000 devices: {value * scale:.2f})"
        print(f"   {name:34} {value:10.2f}{per}")
    top = sorted(redis.items(), key=lambda item: -item[1])[:12]
    print("   Redis by command (calls/s): " + ", ".join(f"{n} {c / seconds:.2f}" for n, c in top))
    tables = sorted(database.tables.items(), key=lambda item: -sum(item[1][:3]))[:6]
    print(
        "   rows written by table (ins/upd/del per s): "
        + ", ".join(
            f"{name} {i / seconds:.2f}/{u / seconds:.2f}/{d / seconds:.2f}"
            for name, (i, u, d, _hot) in tables
        )
    )
    return figures


def probe_latency(url: str, seconds: float) -> list[float]:
    """``GET url`` every 0.25 s for ``seconds``: each answer's time (ms)."""
    times, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        requests.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.25)
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms ({len(ordered)} probes)"


def relayed_requests(relay: Relay, device_ids: list[str]) -> None:
    def one(device_id: str) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            answer = requests.get(
                f"{relay.internal_url}/devices/{device_id}/api/system/deps",
                headers={"X-Relay-Secret": SECRET},
                timeout=30,
            )
            ok = answer.status_code == 200
        except requests.RequestException:
            ok = False
        return ok, (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, device_ids[:100]))
    errors = sum(1 for ok, _ms in results if not ok)
    latencies = describe([ms for _ok, ms in results])
    print(f"   100 concurrent relayed requests: {errors} errors, {latencies}")


def run(args: argparse.Namespace, redis_url: str) -> None:
    soft, hard = raise_file_limit()
    print(f"open files limit raised to {soft} (hard {hard}); load average {load_average()}")
    env = {
        "REDIS_URL": redis_url,
        "RELAY_INTERNAL_SECRET": SECRET,
        "RELAY_HANDSHAKES_PER_SECOND": str(args.handshake_rate),
    }
    username = f"scale-bench-{os.getpid()}"
    with Stack(workers=2, threads=4, extra_env=env) as stack:
        made = subprocess.run(
            [PYTHON, "-c", MAKE_DEVICES, str(args.devices), username],
            cwd=ROOT,
            env=stack.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        device_ids, tokens = made[0::2], made[1::2]
        vacuum_devices(DATABASE_URL)
        tokens_file = stack.work / "tokens.txt"
        tokens_file.write_text("\n".join(tokens))
        log = Path(f"/tmp/scale-bench-relay-{os.getpid()}.log")
        relay = Relay(stack.env, log, profile=args.profile_relay).start()
        print(f"relay log: {relay.log}")
        agent = None
        try:
            rss_empty = rss_kib(relay.process.pid)
            redis_empty = redis_memory(redis_url)
            agent = AgentProcess(
                [
                    *("--tunnel-url", relay.tunnel_url, "--tokens", str(tokens_file)),
                    *("--server", stack.base, "--heartbeats", args.heartbeats),
                    *("--ramp", str(args.handshake_rate)),
                ]
            )
            ramp = agent.wait_connected(args.devices, timeout=args.devices / 20 + 120)
            print(
                f"\n1. ramp: {agent.latest.get('connected')} of {args.devices} tunnels up "
                f"in {ramp or float('nan'):.1f} s (relay at {args.handshake_rate} handshakes/s)"
            )
            time.sleep(args.settle)
            rss = rss_kib(relay.process.pid)
            print(
                f"   relay RSS {rss / 1024:.1f} MiB, {rss_empty / 1024:.1f} MiB before the "
                f"tunnels: {(rss - rss_empty) / args.devices:.1f} KiB per tunnel; "
                f"open files: relay {open_files(relay.process.pid)}, "
                f"load agent {open_files(agent.process.pid)}"
            )
            redis_bytes = (redis_memory(redis_url) - redis_empty) / args.devices
            print(f"   Redis memory: {redis_bytes:.0f} bytes per tunnel (used_memory)")
            healthz = f"{stack.base}/healthz"
            before = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
            relay.signal_profile(signal.SIGUSR1)
            time.sleep(args.steady)
            relay.signal_profile(signal.SIGUSR2)
            after = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
            report_window("2. steady state", before, after, args.devices)
            if args.profile_relay:
                print(f"   relay's profile of the steady state: {args.profile_relay}")
            before = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
            steady_probes = probe_latency(healthz, PROBE_SECONDS)
            after = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
            web = 100 * (after.web_cpu - before.web_cpu) / (after.at - before.at)
            print(
                f"   /healthz (4 a second, apart): {describe(steady_probes)}; web CPU {web:.1f} %"
            )
            relayed_requests(relay, device_ids)
            if not args.no_restart:
                storm(args, relay, stack, agent, redis_url, healthz)
        finally:
            if agent is not None:
                agent.stop()
            relay.stop()
            subprocess.run([PYTHON, "-c", REMOVE_USER, username], cwd=ROOT, env=stack.env)


def storm(args, relay: Relay, stack: Stack, agent: AgentProcess, redis_url: str, healthz: str):
    before = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
    started = time.monotonic()
    relay.stop()
    relay.start()
    before.relay_cpu = 0.0  # a new process: its CPU counts from zero
    probes: list[float] = []
    done = threading.Event()

    def probing() -> None:
        while not done.is_set():
            probes.extend(probe_latency(healthz, 1.0))

    prober = threading.Thread(target=probing, daemon=True)
    prober.start()
    # The old process's tunnels close as it stops: wait for the counter to fall first.
    while agent.latest.get("connected", 0) >= args.devices and time.monotonic() - started < 30:
        time.sleep(0.1)
    back = agent.wait_connected(args.devices, timeout=args.storm_timeout)
    done.set()
    prober.join()
    after = Sample(relay=relay, stack=stack, agent=agent, redis_url=redis_url)
    total = time.monotonic() - started
    when = f"in {total:.1f} s" if back is not None else "NOT within the timeout"
    print(f"\n3. relay restart: {agent.latest.get('connected')} of {args.devices} back {when}")
    for name in ("busy", "failed", "refused", "closed_by_relay"):
        print(f"   agents' {name}: {after.agent.get(name, 0) - before.agent.get(name, 0)}")
    report_window("   during the storm", before, after, args.devices)
    print(f"   /healthz during the storm: {describe(probes)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--steady", type=float, default=120.0, help="seconds measured idle")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds before measuring")
    parser.add_argument("--heartbeats", choices=["new", "old", "none"], default="new")
    parser.add_argument("--handshake-rate", type=int, default=200)
    parser.add_argument("--storm-timeout", type=float, default=300.0)
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--redis", choices=["private", "bench"], default="private")
    parser.add_argument("--profile-relay", default="", help="write the relay's cProfile here")
    args = parser.parse_args()
    print(f"database {DATABASE_URL}")
    if args.redis == "bench":
        print(f"Redis {REDIS_URL} (shared: its commandstats count every client)")
        run(args, REDIS_URL)
        return
    with PrivateRedis() as private:
        print(f"Redis: a private redis-server at {private.url}")
        run(args, private.url)


if __name__ == "__main__":
    main()
