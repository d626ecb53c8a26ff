"""Deployments' benchmark (issue 12): one NEF to many devices at once, and a resume.

    DATABASE_URL=postgres://.../visiona_bench REDIS_URL=redis://.../N \
        .venv/bin/python bench/deploy_bench.py [--mib 100] [--agents 10] [--pairs 3]

Production-like: gunicorn (gthread, one worker), DEBUG=0, the DATABASE_URL and
REDIS_URL given (migrated here: use a database of its own). The agents are minimal
HTTP clients in this process (threads, ``requests``), doing what the agent does on
the server's side: read the work from the heartbeat, stream the file with the device
token (1 MiB reads, discarded), report ``downloading``. The agent's own work (disk,
SHA-256, CRC, install) is not in these figures.

1. N devices downloading the deployment's file at once, versus N plain downloads of
   the same model (``/api/models/<id>/download`` with a session), in pairs of
   alternating order (A B B A ...): the median (min, max) of the pairs' time ratios,
   and the worker's RSS growth over its idle RSS during the deployments (target
   <= 32 MB).
2. A download cut at 50 % and resumed with Range + If-Range: the bytes sent again
   (target: only the missing half, i.e. ~0 re-sent).

The same with ten real agents (``visiona-agent run --demo``) through the relay:
bench/deploy_agents_bench.py.
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
import threading
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    for _ in range(200):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker did not start")


def environment(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k3Y9" * 15,
        "RELAY_INTERNAL_SECRET": "bench-relay-" + "s7Q2" * 12,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "VISIONA_DATA_DIR": str(data_dir),
        "VISIONA_SANDBOX": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "visiona.settings",
    }


def setup_fixtures(mib: int, agents: int):
    """A user, their model of ``mib`` MiB, ``agents`` devices with tokens, a session."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from devices import credentials
    from devices.models import Device, DeviceToken
    from models_repo.choices import ModelSource
    from models_repo.services import model_create_from_stream

    stamp = str(int(time.time()))
    user = get_user_model().objects.create_user(f"bench-{stamp}", password="bench-pass-1")
    block = bytes(range(256)) * 4096  # 1 MiB
    model = model_create_from_stream(
        owner=user,
        name=f"bench {stamp}",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="bench.nef",
        chunks=(block for _ in range(mib)),
    )
    devices = Device.objects.bulk_create(
        [
            Device(owner=user, serial=f"BENCH-{stamp}-{i}", name=f"bench {i}", chip="KL720")
            for i in range(agents + 1)
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
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(user.pk)
    # The model backend (django-axes' comes first and cannot load a user).
    session["_auth_user_backend"] = next(
        name for name in settings.AUTHENTICATION_BACKENDS if "axes" not in name.lower()
    )
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    cookie = {settings.SESSION_COOKIE_NAME: session.session_key}
    return user, model, list(zip(devices, tokens, strict=True)), cookie


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, rss_kib(pid), threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


def fetch(url: str, *, headers=None, cookies=None, stop_at: int | None = None) -> int:
    """Stream ``url`` and discard it; the bytes received (stop early at ``stop_at``)."""
    received = 0
    with requests.Session() as session:
        session.trust_env = False
        with session.get(url, headers=headers, cookies=cookies, stream=True, timeout=600) as r:
            assert r.status_code in {200, 206}, (r.status_code, r.text[:200])
            for chunk in r.iter_content(MIB):
                received += len(chunk)
                if stop_at is not None and received >= stop_at:
                    break
    return received


def all_at_once(calls) -> float:
    """Run the calls in threads started together; the wall time. Any failure stops the bench."""
    errors: list[BaseException] = []

    def guarded(call):
        def run() -> None:
            try:
                call()
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(call)) for call in calls]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(calls)} transfers failed: {errors[0]!r}")
    return time.monotonic() - started


def deploy_round(base: str, user, model, devices) -> tuple[float, list[int]]:
    from deployments import services as deployment_services

    results = deployment_services.deployments_create(
        user=user, model_id=model.pk, device_ids=[device.pk for device, _ in devices]
    )
    assert {r.outcome for r in results} == {"created"}, [r.outcome for r in results]
    sizes: list[int] = []

    def agent(token: str):
        def run() -> None:
            auth = {"Authorization": f"Bearer {token}"}
            (item,) = requests.post(f"{base}/api/agent/heartbeat", json={}, headers=auth).json()[
                "deployments"
            ]
            state = f"{base}/api/agent/deployments/{item['id']}/state"
            requests.post(state, json={"state": "downloading", "bytes_done": 0}, headers=auth)
            sizes.append(fetch(base + item["download_url"], headers=auth))

        return run

    elapsed = all_at_once([agent(token) for _, token in devices])
    for result in results:  # leaves them unfinished: cancel, so the next round creates again
        deployment_services.deployment_cancel(user=user, deployment_id=result.deployment.pk)
    return elapsed, sizes


def plain_round(base: str, model, count: int, cookie) -> float:
    url = f"{base}/api/models/{model.pk}/download"
    return all_at_once([lambda: fetch(url, cookies=cookie) for _ in range(count)])


def resume_after_cut(base: str, user, model, device, token) -> dict:
    from deployments import services as deployment_services

    result = deployment_services.deployments_create(
        user=user, model_id=model.pk, device_ids=[device.pk]
    )[0]
    url = f"{base}/api/agent/deployments/{result.deployment.pk}/file"
    auth = {"Authorization": f"Bearer {token}"}
    half = model.size_bytes // 2
    first = fetch(url, headers=auth, stop_at=half)
    headers = {**auth, "Range": f"bytes={first}-", "If-Range": f'"{model.sha256}"'}
    rest = fetch(url, headers=headers)
    return {"first": first, "rest": rest, "re_sent": first + rest - model.size_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database of its own (and REDIS_URL)")

    data_dir = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    env = environment(data_dir)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    user, model, devices, cookie = setup_fixtures(args.mib, args.agents)
    port = free_port()
    threads = str(args.agents + 2)
    command = [sys.executable, "-m", "gunicorn", "visiona.wsgi", "-k", "gthread", "-w", "1"]
    command += ["--threads", threads, "-b", f"127.0.0.1:{port}", "--timeout", "600"]
    app = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        worker = worker_pid(app.pid)
        # Warm up both paths once (imports, connections, threads).
        deploy_round(base, user, model, devices[1:])
        plain_round(base, model, args.agents, cookie)
        idle = rss_kib(worker)
        ratios, deploy_times, plain_times, growth = [], [], [], []
        for pair in range(args.pairs):
            order = ["deploy", "plain"] if pair % 2 == 0 else ["plain", "deploy"]
            times = {}
            for kind in order:
                if kind == "deploy":
                    sampler = Sampler(worker)
                    sampler.start()
                    times[kind], sizes = deploy_round(base, user, model, devices[1:])
                    growth.append(sampler.stop() - idle)
                    assert sizes == [model.size_bytes] * args.agents, sizes
                else:
                    times[kind] = plain_round(base, model, args.agents, cookie)
            deploy_times.append(times["deploy"])
            plain_times.append(times["plain"])
            ratios.append(times["deploy"] / times["plain"])
            print(
                f"pair {pair + 1} ({' '.join(order)}): deploy {times['deploy']:.2f} s, "
                f"plain {times['plain']:.2f} s, ratio {ratios[-1]:.3f}"
            )
        cut = resume_after_cut(base, user, model, *devices[0])
        total_mib = args.mib * args.agents
        print(f"\n{args.agents} devices x {args.mib} MiB = {total_mib} MiB per round")
        print(
            f"deploy: median {statistics.median(deploy_times):.2f} s "
            f"({total_mib / statistics.median(deploy_times):.0f} MiB/s); "
            f"plain: median {statistics.median(plain_times):.2f} s"
        )
        print(
            f"deploy / plain time: median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {args.pairs} pairs"
        )
        print(
            f"worker RSS: idle {idle / 1024:.1f} MiB, growth during deployments: "
            f"max {max(growth) / 1024:.1f} MiB (target <= 32 MB)"
        )
        print(
            f"cut at 50 %: {cut['first']} bytes, then {cut['rest']} with Range; "
            f"re-sent {cut['re_sent']} bytes"
        )
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        app.terminate()
        app.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
