"""Deployments with REAL agents (issue 12): one NEF to ten demo agents at once, and a cut.

    DATABASE_URL=postgres://.../visiona_bench REDIS_URL=redis://.../N \
        .venv/bin/python bench/deploy_agents_bench.py [--mib 100] [--agents 10] [--pairs 3]

Production-like: gunicorn (gthread, one worker), DEBUG=0, PostgreSQL, Redis, and the
real relay (``manage.py run_relay``). Each agent is ``visiona-agent run --demo`` in its
own process (state written as ``pair`` writes it), so each deployment is the whole road:
the create through the API, the push through the tunnel, the download with the device
token to the agent's disk, SHA-256 and CRC-32, the atomic install and every report.

1. A round deploys the model to all agents through ``POST /api/deployments`` and ends
   when visionA has every deployment ``installed``. Rounds alternate between two models
   of the same size (an agent already running one model is told so, not sent it). A
   round of plain downloads is ten ``/api/models/<id>/download`` of the same file with
   a session, read and discarded. Pairs in alternating order (A B B A ...): the
   median (min, max) of the per-pair time ratios, and the worker's RSS growth over its
   idle RSS during the deployments (target <= 32 MB).
2. A cut at 50 %: one more agent talks to visionA through a TCP proxy here, which
   closes the connection once half the file went through it. The proxy counts every
   byte visionA sent it during that deployment (both answers of the file, with their
   headers, and the answers to the agent's reports); that minus the file's size bounds
   the bytes sent twice (target: only the missing half, i.e. ~0 re-sent). The agent's
   log gives the ``Range`` it asked for after the cut.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_bench import (
    ROOT,
    Sampler,
    environment,
    free_port,
    plain_round,
    rss_kib,
    worker_pid,
)
from tcp_cut_proxy import CutProxy

CLIENT = ROOT / "client"


def nef_chunks(mib: int, seed: int):
    """``mib`` MiB shaped as a NEF: content, then its big-endian CRC-32."""
    block = bytes((i * 31 + seed) % 256 for i in range(256)) * 4096
    crc = 0
    for index in range(mib):
        chunk = block if index < mib - 1 else block[:-4]
        crc = zlib.crc32(chunk, crc)
        yield chunk
    yield crc.to_bytes(4, "big")


def setup_fixtures(mib: int, agents: int):
    """A user, two models of ``mib`` MiB, ``agents`` + 1 devices with tokens, a session."""
    from deploy_bench import setup_fixtures as minimal_fixtures

    from models_repo.choices import ModelSource
    from models_repo.services import model_create_from_stream

    user, _, devices, cookie = minimal_fixtures(1, agents)
    models = [
        model_create_from_stream(
            owner=user,
            name=f"{user.username} model" + "!" * seed,  # one file name on the device
            chips=["KL720"],
            source=ModelSource.UPLOADED,
            filename="bench.nef",
            chunks=nef_chunks(mib, seed),
        )
        for seed in (0, 1)
    ]
    return user, models, devices, cookie


def start_agent(root: Path, server: str, device, token: str) -> subprocess.Popen:
    sys.path.insert(0, str(CLIENT))
    from visiona_client import state

    state_dir = root / f"agent-{device.pk}"
    state.save(
        state_dir,
        state.State(
            server=server,
            device_id=str(device.pk),
            token=token,
            paired_at="2026-01-01T00:00:00+00:00",
            serial=device.serial,
            chip=device.chip,
        ),
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(CLIENT),
        "HOME": str(root),
        "NO_PROXY": "*",
    }
    command = [sys.executable, "-m", "visiona_client", "run", "--demo"]
    log = (root / f"agent-{device.pk}.log").open("w")
    return subprocess.Popen(
        [*command, "--state-dir", str(state_dir)], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_connected(relay_internal: str, secret: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            sessions = requests.get(
                f"{relay_internal}/sessions", headers={"X-Relay-Secret": secret}, timeout=5
            ).json()["sessions"]
        except (requests.RequestException, ValueError, KeyError):
            sessions = []
        if len(sessions) >= count:
            return
        time.sleep(0.2)
    raise RuntimeError(f"fewer than {count} tunnels after {timeout} s")


class Api:
    def __init__(self, base: str, cookie: dict) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.csrf = secrets.token_hex(16)
        self.http.cookies.update({**cookie, "csrftoken": self.csrf})

    def deploy(self, model, devices) -> list[str]:
        answer = self.http.post(
            f"{self.base}/api/deployments",
            json={"model_id": model.pk, "device_ids": [str(device.pk) for device in devices]},
            headers={"X-CSRFToken": self.csrf, "Referer": self.base + "/"},
            timeout=60,
        )
        assert answer.status_code == 201, (answer.status_code, answer.text[:300])
        results = answer.json()["results"]
        assert {r["outcome"] for r in results} == {"created"}, [r["outcome"] for r in results]
        return [r["deployment"]["id"] for r in results]


def wait_installed(ids: list[str], timeout: float = 900) -> None:
    from deployments.models import Deployment

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = list(Deployment.objects.filter(pk__in=ids).values_list("state", flat=True))
        if "failed" in states or "cancelled" in states:
            failed = Deployment.objects.filter(pk__in=ids, state="failed").first()
            raise RuntimeError(f"a deployment failed: {failed and failed.error_message}")
        if states.count("installed") == len(ids):
            return
        time.sleep(0.05)
    raise RuntimeError("deployments not installed in time")


def deploy_round(api: Api, model, devices) -> float:
    started = time.monotonic()
    wait_installed(api.deploy(model, devices))
    return time.monotonic() - started


def file_requests(access_log: Path, deployment_id: str) -> list[str]:
    """The status of each request for the deployment's file, from gunicorn's access log."""
    path = f"/api/agent/deployments/{deployment_id}/file"
    return [
        line.split()[1] for line in access_log.read_text().splitlines() if line.split()[0] == path
    ]


def cut_round(api: Api, model, device, proxy: CutProxy, access_log: Path) -> dict:
    proxy.arm(model.size_bytes // 2)
    (deployment_id,) = api.deploy(model, [device])
    wait_installed([deployment_id])
    time.sleep(0.5)  # the access log line is written as the answer ends
    return {
        "statuses": file_requests(access_log, deployment_id),
        "from_visiona": proxy.from_server,
        "re_sent_at_most": proxy.from_server - model.size_bytes,
        "cut_after": proxy.cut_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("set DATABASE_URL to a PostgreSQL database of its own, and REDIS_URL")

    data_dir = Path(tempfile.mkdtemp(prefix="deploy-agents-bench-"))
    port, tunnel_port, internal_port = free_port(), free_port(), free_port()
    env = environment(data_dir)
    # Beats every 10 s: the push through the tunnel is what starts each deployment.
    env.update(
        RELAY_PUBLIC_URL=f"ws://127.0.0.1:{tunnel_port}/tunnel",
        DEVICE_ONLINE_THRESHOLD_SECONDS="30",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    _, models, devices, cookie = setup_fixtures(args.mib, args.agents)
    access_log = data_dir / "access.log"
    command = [sys.executable, "-m", "gunicorn", "visiona.wsgi", "-k", "gthread", "-w", "1"]
    command += ["--threads", str(args.agents + 4), "-b", f"127.0.0.1:{port}", "--timeout", "600"]
    command += ["--access-logfile", str(access_log), "--access-logformat", "%(U)s %(s)s"]
    relay_command = [sys.executable, "manage.py", "run_relay", "--tunnel-port", str(tunnel_port)]
    relay_command += ["--internal-port", str(internal_port)]
    base = f"http://127.0.0.1:{port}"
    processes = [subprocess.Popen(command, cwd=ROOT, env=env)]
    processes.append(subprocess.Popen(relay_command, cwd=ROOT, env=env))
    proxy = CutProxy(("127.0.0.1", port)).start()
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.1)
        worker = worker_pid(processes[0].pid)
        cut_device, *fleet = devices
        for device, token in fleet:
            processes.append(start_agent(data_dir, base, device, token))
        processes.append(start_agent(data_dir, proxy.url, *cut_device))
        wait_connected(
            f"http://127.0.0.1:{internal_port}", env["RELAY_INTERNAL_SECRET"], len(devices)
        )
        api = Api(base, cookie)
        fleet_devices = [device for device, _ in fleet]
        plain_round(base, models[0], args.agents, cookie)  # warm up
        idle = rss_kib(worker)
        ratios, deploy_times, plain_times, growth = [], [], [], []
        for pair in range(args.pairs):
            order = ["deploy", "plain"] if pair % 2 == 0 else ["plain", "deploy"]
            times = {}
            for kind in order:
                if kind == "deploy":
                    sampler = Sampler(worker)
                    sampler.start()
                    times[kind] = deploy_round(api, models[pair % 2], fleet_devices)
                    growth.append(sampler.stop() - idle)
                else:
                    times[kind] = plain_round(base, models[0], args.agents, cookie)
            deploy_times.append(times["deploy"])
            plain_times.append(times["plain"])
            ratios.append(times["deploy"] / times["plain"])
            print(
                f"pair {pair + 1} ({' '.join(order)}): deploy {times['deploy']:.2f} s, "
                f"plain {times['plain']:.2f} s, ratio {ratios[-1]:.3f}",
                flush=True,
            )
        cut = cut_round(api, models[0], cut_device[0], proxy, access_log)
        total_mib = args.mib * args.agents
        print(f"\n{args.agents} real agents x {args.mib} MiB = {total_mib} MiB per round")
        print(
            f"deploy (API to all installed): median {statistics.median(deploy_times):.2f} s; "
            f"plain downloads: median {statistics.median(plain_times):.2f} s"
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
            f"cut at 50 %: cut after {cut['cut_after']} bytes; file requests {cut['statuses']}; "
            f"visionA sent {cut['from_visiona']} bytes in all for a {models[0].size_bytes}-byte "
            f"file: at most {cut['re_sent_at_most']} bytes re-sent (headers and reports included)"
        )
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        proxy.stop()
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
