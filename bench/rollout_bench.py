"""Rollouts' benchmark (issue 25): one model to many lightweight agents, in phases.

    BENCH_DATABASE_URL=postgres://.../visiona_bench_fleets BENCH_REDIS_URL=redis://.../0 \\
        .venv/bin/python bench/rollout_bench.py [--agents 200] [--mib 10] [--pairs 2]

Production-like: gunicorn (gthread, one worker) and ``manage.py db_worker`` (the database
task backend), DEBUG=0, on the database and Redis given (migrated here: use ones of
their own). The agents are threads of this process speaking the agent's HTTP protocol:
a heartbeat, then at each nudge (``POST /devices/<id>/_visiona/deployments/sync``, sent
by visionA to a stand-in relay node in this process, which the tunnel registry names for
every device) the list of work, ``downloading``, the file streamed in 1 MiB reads and its
SHA-256 checked, ``verifying``, ``installed``. The agent's disk work is not in these
figures; the server's whole road is (reports, the worker's advances, the pushes).

Rounds, in pairs of alternating order (A B, then B A): A is a rollout to the group
(phases 1, 20 %, rest), B the same deployment to every device at once (``POST
/api/deployments``, 50 devices a request). Each round deploys a new model, so nothing
is already installed. Printed: the time from the POST to the last install (A: also to
``completed``), the median of the pairs' A/B ratios with min and max, the server's CPU
seconds (gunicorn worker + db_worker) and peak RSS per round, the database queries of
one device's reports and of the worker's advances (counted in this process, after the
rounds), and the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_bench import (
    MIB,
    ROOT,
    environment,
    free_port,
    rss_kib,
    setup_fixtures,
    worker_pid,
)

SECRET_HEADER = "X-Relay-Secret"
ROUND_TIMEOUT = 1800.0
# An agent not nudged asks for its work this often (its heartbeat's pull).
PULL_SECONDS = 30.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Agent(threading.Thread):
    """One device's agent, reduced to its HTTP protocol."""

    def __init__(self, base: str, device_id: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.device_id = base, device_id
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.done: set[str] = set()
        self.errors: list[str] = []
        self.pulls = 0

    def run(self) -> None:
        self.http.post(f"{self.base}/api/agent/heartbeat", json={"status": "ready"}, timeout=60)
        while not self.stopping.is_set():
            # Woken by a nudge; else, as the agent's heartbeat would, it asks anyway now
            # and then (a nudge is best effort: it may be lost under load).
            nudged = self.wake.wait(PULL_SECONDS)
            self.wake.clear()
            if self.stopping.is_set():
                return
            self.pulls += 0 if nudged else 1
            try:
                self.work()
            except Exception as exc:  # a bench failure, said at the end
                self.errors.append(repr(exc))

    def work(self) -> None:
        answer = self.http.get(f"{self.base}/api/agent/deployments", timeout=60)
        for item in answer.json()["deployments"]:
            if item["id"] in self.done:
                continue
            state = f"{self.base}/api/agent/deployments/{item['id']}/state"
            size = item["model"]["size_bytes"]
            self.http.post(state, json={"state": "downloading", "bytes_done": 0}, timeout=60)
            digest = hashlib.sha256()
            with self.http.get(self.base + item["download_url"], stream=True, timeout=600) as r:
                for chunk in r.iter_content(MIB):
                    digest.update(chunk)
            assert digest.hexdigest() == item["model"]["sha256"], "not the model's bytes"
            for step in ("verifying", "installed"):
                body = {"state": step, "bytes_done": size, "bytes_total": size}
                self.http.post(state, json=body, timeout=60).raise_for_status()
            self.done.add(item["id"])


class Node:
    """A stand-in relay node: takes visionA's nudges and wakes the agent they name."""

    def __init__(self, agents: dict[str, Agent], secret: str) -> None:
        self.nudges = 0
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                parts = self.path.split("/")
                agent = agents.get(parts[2]) if len(parts) > 2 else None
                ok = self.headers.get(SECRET_HEADER) == secret and agent is not None
                if ok:
                    node.nudges += 1
                    agent.wake.set()
                body = json.dumps({"accepted": ok}).encode()
                self.send_response(202 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 256  # nudges come in bursts
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def setup_fleet(count: int):
    """A user, ``count`` KL720 devices with tokens, their group, the session's cookies
    (and a CSRF token: the API's writes with a session need one)."""
    from deployments import group_services

    user, _model, devices, cookies = setup_fixtures(1, count - 1)
    group = group_services.group_create(
        user=user, name=f"bench {uuid.uuid4().hex[:6]}", device_ids=[d.pk for d, _ in devices]
    )
    csrf = secrets.token_hex(16)
    return user, devices, group, {"cookies": {**cookies, "csrftoken": csrf}, "csrf": csrf}


def new_model(user, mib: int):
    from models_repo.choices import ModelSource
    from models_repo.services import model_create_from_stream

    seed = uuid.uuid4().bytes
    block = (seed * (MIB // len(seed)))[:MIB]
    return model_create_from_stream(
        owner=user,
        name=f"bench {uuid.uuid4().hex[:8]}",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="bench.nef",
        chunks=(block for _ in range(mib)),
    )


def register_tunnels(devices, node_url: str, stop: threading.Event) -> None:
    """Every device's tunnel is on the stand-in node, under its lease (renewed while the
    bench runs, as a relay node renews its own)."""
    from devices import tunnel_registry

    lease = tunnel_registry.NodeLease.standing(node_url)
    tunnel_registry.lease_acquire(lease)
    tunnel_registry.register_many(
        lease=lease, connections=[(str(device.pk), uuid.uuid4().hex) for device, _ in devices]
    )
    while not stop.wait(tunnel_registry.LEASE_RENEW_SECONDS):
        if not tunnel_registry.lease_renew(lease):
            tunnel_registry.lease_acquire(lease)


def note(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def wait_until(condition, what: str, timeout: float = ROUND_TIMEOUT) -> None:
    note(f"waiting for {what}")
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def last_install_after(model, started) -> float:
    from deployments.models import Deployment

    last = max(Deployment.objects.filter(model=model).values_list("finished_at", flat=True))
    return (last - started).total_seconds()


def rollout_round(http, base: str, user, group, mib: int, count: int) -> dict:
    from django.utils import timezone

    from deployments.models import Deployment, Rollout

    model = new_model(user, mib)
    started, clock = timezone.now(), time.monotonic()
    answer = http.post(
        f"{base}/api/rollouts",
        json={"model_id": model.pk, "group_id": str(group.pk)},
        timeout=120,
    )
    assert answer.status_code == 201, answer.text
    rollout_id = answer.json()["id"]

    def finished() -> bool:
        return Rollout.objects.get(pk=rollout_id).state != "running"

    wait_until(finished, "the rollout's end")
    total = time.monotonic() - clock
    state = Rollout.objects.get(pk=rollout_id).state
    assert state == "completed", state
    installed = Deployment.objects.filter(model=model, state="installed").count()
    assert installed == count, installed
    return {"last_install": last_install_after(model, started), "completed": total}


def plain_round(http, base: str, user, devices, mib: int) -> dict:
    from django.utils import timezone

    from deployments.models import Deployment

    model = new_model(user, mib)
    ids = [str(device.pk) for device, _ in devices]
    started = timezone.now()
    for start in range(0, len(ids), 50):
        body = {"model_id": model.pk, "device_ids": ids[start : start + 50]}
        answer = http.post(f"{base}/api/deployments", json=body, timeout=120)
        assert answer.status_code == 201, answer.text

    def installed() -> bool:
        return Deployment.objects.filter(model=model, state="installed").count() == len(ids)

    wait_until(installed, "every install")
    return {"last_install": last_install_after(model, started)}


def measured(pids: dict[str, int], call):
    """``call()``'s result, with each process's CPU seconds and peak RSS meanwhile."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    peak = {name: rss_kib(pid) for name, pid in pids.items()}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            for name, pid in pids.items():
                peak[name] = max(peak[name], rss_kib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = call()
    finally:
        done.set()
        sampler.join()
    result["cpu"] = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    result["rss_mib"] = {name: peak[name] / 1024 for name in pids}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--mib", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="gunicorn's threads")
    args = parser.parse_args()
    database = os.environ.get("BENCH_DATABASE_URL", "")
    if not database.startswith("postgres"):
        sys.exit("set BENCH_DATABASE_URL to a PostgreSQL database of its own (and BENCH_REDIS_URL)")

    data_dir = Path(tempfile.mkdtemp(prefix="rollout-bench-"))
    env = environment(data_dir)
    env["DATABASE_URL"] = database
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    user, devices, group, cookie = setup_fleet(args.agents)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "visiona.wsgi", "-k", "gthread", "-w", "1"]
    command += ["--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--timeout", "600"]
    app = subprocess.Popen(command, cwd=ROOT, env=env)
    worker_log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (read and closed below)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    # A timeout's SIGTERM still stops the server and the worker (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))
    stop = threading.Event()
    agents = {str(device.pk): Agent(base, str(device.pk), token) for device, token in devices}
    node = Node(agents, settings.RELAY_INTERNAL_SECRET)
    threading.Thread(target=register_tunnels, args=(devices, node.url, stop), daemon=True).start()
    try:
        wait_until(lambda: _answers(base), "gunicorn to answer", timeout=60)
        pids = {"gunicorn worker": worker_pid(app.pid), "db_worker": worker.pid}
        for agent in agents.values():
            agent.start()
        http = requests.Session()
        http.trust_env = False
        http.cookies.update(cookie["cookies"])
        http.headers["X-CSRFToken"] = cookie["csrf"]
        results = run_pairs(args, http, base, user, group, devices, pids)
        errors = [error for agent in agents.values() for error in agent.errors]
        report(args, results, node)
        pulls = sum(agent.pulls for agent in agents.values())
        print(f"agents' own pulls (every {PULL_SECONDS:.0f} s without a nudge): {pulls}")
        if errors:
            print(f"{len(errors)} agent errors (retried at the next nudge or pull): {errors[0]}")
    except BaseException:
        worker_log.seek(0)
        print("db_worker's output:\n" + worker_log.read()[-5000:])
        raise
    finally:
        stop.set()
        for agent in agents.values():
            agent.stopping.set()
        for process in (app, worker):
            process.terminate()
            process.wait(timeout=60)
        worker_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    queries_per_report(user, devices[: min(20, len(devices))])
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def run_pairs(args, http, base, user, group, devices, pids) -> dict:
    rounds = {
        "rollout": lambda: rollout_round(http, base, user, group, args.mib, args.agents),
        "plain": lambda: plain_round(http, base, user, devices, args.mib),
    }
    results: dict[str, list] = {"rollout": [], "plain": [], "ratios": []}
    for pair in range(args.pairs):
        order = ["rollout", "plain"] if pair % 2 == 0 else ["plain", "rollout"]
        outcome = {name: measured(pids, rounds[name]) for name in order}
        for name in order:
            results[name].append(outcome[name])
        ratio = outcome["rollout"]["last_install"] / outcome["plain"]["last_install"]
        results["ratios"].append(ratio)
        print(
            f"pair {pair + 1} ({' '.join(order)}): rollout to the last install "
            f"{outcome['rollout']['last_install']:.2f} s (completed "
            f"{outcome['rollout']['completed']:.2f} s), all at once "
            f"{outcome['plain']['last_install']:.2f} s, ratio {ratio:.3f}",
            flush=True,
        )
    return results


def report(args, results: dict, node: Node) -> None:
    rollouts, plains, ratios = results["rollout"], results["plain"], results["ratios"]
    print(f"\n{args.agents} agents x {args.mib} MiB, {args.pairs} pairs (A B, B A, ...)")
    print(
        "rollout (1, 20 %, rest), POST to the last install: median "
        f"{statistics.median(r['last_install'] for r in rollouts):.2f} s; to completed: "
        f"median {statistics.median(r['completed'] for r in rollouts):.2f} s"
    )
    print(
        "all at once (POST /api/deployments), to the last install: median "
        f"{statistics.median(p['last_install'] for p in plains):.2f} s"
    )
    print(
        f"rollout / all at once: median {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
    )
    for name, runs in (("rollout", rollouts), ("all at once", plains)):
        for process in runs[0]["cpu"]:
            cpu = statistics.median(r["cpu"][process] for r in runs)
            rss = max(r["rss_mib"][process] for r in runs)
            print(f"{name}: {process} CPU median {cpu:.1f} s a round, peak RSS {rss:.1f} MiB")
    print(f"nudges received by the stand-in relay node: {node.nudges}")


def queries_per_report(user, devices) -> None:
    """A device's reports and the worker's advance, their database queries counted here
    (the server and the worker are stopped: nothing else advances this rollout)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deployments import rollout_engine, rollout_services
    from deployments.group_services import group_create
    from deployments.models import Deployment

    group = group_create(
        user=user, name=f"queries {uuid.uuid4().hex[:6]}", device_ids=[d.pk for d, _ in devices]
    )
    model = new_model(user, 1)
    rollout = rollout_services.rollout_create(
        user=user, model_id=model.pk, group_id=group.pk, phases=["rest"]
    )
    with CaptureQueriesContext(connection) as start:
        rollout_engine.advance(rollout_id=rollout.pk)
    counts: dict[str, list[int]] = {"downloading": [], "verifying": [], "installed": []}
    for device, token in devices:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
        deployment = Deployment.objects.get(rollout=rollout, device=device)
        url = f"/api/agent/deployments/{deployment.pk}/state"
        for state in counts:
            with CaptureQueriesContext(connection) as captured:
                answer = client.post(url, {"state": state}, content_type="application/json")
            assert answer.status_code == 200, answer.content
            counts[state].append(len(captured.captured_queries))
    with CaptureQueriesContext(connection) as burst:
        rollout_engine.advance(rollout_id=rollout.pk)
    n = len(devices)
    print(
        "queries per device report (request, median): "
        + ", ".join(f"{state} {statistics.median(v):.0f}" for state, v in counts.items())
        + f"; the worker's advance: {len(start.captured_queries)} to start a phase of {n}, "
        f"{len(burst.captured_queries)} to judge {n} installs at once "
        f"({len(burst.captured_queries) / n:.1f} a report)"
    )


if __name__ == "__main__":
    main()
