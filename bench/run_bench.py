"""Runs (issue 24): the time of a run through visionA and the tunnel against the demo
device's own time for the same inputs, and memory with 100 MB of inputs.

    DATABASE_URL=postgres://.../visiona_bench REDIS_URL=redis://.../N \
        .venv/bin/python bench/run_bench.py [--inputs 10] [--repeat 10] [--pairs 3] \
        [--memory-mib 100]

Production-like: gunicorn (gthread, one worker), DEBUG=0, PostgreSQL, Redis, the real
relay (``manage.py run_relay``), the background worker (``manage.py db_worker``) and one
real agent (``visiona-agent run --demo``, its demo device on a fixed port). The model is
the repository's sample classifier as the sandbox converter makes its NEF (int8, calibrated
on the sample's images), deployed through the API; its original ONNX is kept, so every
run is also compared in the background.

1. Overhead. A: the same inputs posted one by one straight to the demo device's
   ``POST /api/models/<stem>/infer`` (what the device itself costs: decode, resize,
   warm-up and the timed repetitions). B: one run through visionA (``POST /api/runs``,
   the push through the tunnel, the agent fetching each input and posting each result,
   the completed state), from the request until visionA has it ``completed``. Pairs in
   alternating order (A B B A ...): the median (min, max) of B / A, the overhead per
   input ((B - A) / inputs), and the demo's own latency per inference (the run's p50).
2. Memory. One run with ``--memory-mib`` of inputs (incompressible PNGs of about 1 MiB):
   the peak RSS growth of the web worker (upload, storage, the agent's fetches and
   results), of the agent (one input at a time) and of the background worker (the
   comparison), each over its own RSS before the run; and the run's wall time.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_agents_bench import Api, wait_connected, wait_installed
from deploy_bench import ROOT, Sampler, environment, free_port, rss_kib, worker_pid

SAMPLES = ROOT / "static" / "samples"


def sample_nef() -> tuple[bytes, bytes]:
    """The sample's stand-in NEF (as the sandbox converter makes it) and its ONNX."""
    import onnx

    sys.path.insert(0, str(ROOT))
    from tests import onnx_models

    source = (SAMPLES / "sample-classifier.onnx").read_bytes()
    images = [path.read_bytes() for path in sorted((SAMPLES / "calibration").glob("*.png"))]
    return onnx_models.stand_in_nef(onnx.load_from_string(source), images), source


def noise_png(side: int, seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def setup(user_model_device):
    """The model (with its ONNX) saved for the bench user."""
    from models_repo.choices import ModelSource
    from models_repo.reference import model_reference_store
    from models_repo.services import model_create_from_stream

    user = user_model_device
    nef, source = sample_nef()
    model = model_create_from_stream(
        owner=user,
        name=f"sample {int(time.time())}",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="sample.nef",
        chunks=[nef],
    )
    return model_reference_store(model=model, filename="sample.onnx", chunks=[source])


def direct_round(demo: str, stem: str, inputs: list[bytes], repeat: int) -> float:
    started = time.monotonic()
    with requests.Session() as http:
        http.trust_env = False
        for data in inputs:
            answer = http.post(
                f"{demo}/api/models/{stem}/infer",
                params={"repeat": str(repeat)},
                data=data,
                headers={"Content-Type": "image/png"},
                timeout=120,
            )
            assert answer.status_code == 200, answer.text[:300]
    return time.monotonic() - started


def run_round(api: Api, model, device, inputs: list[bytes], repeat: int) -> tuple[float, str]:
    from deployments.models import Run

    files = [("inputs", (f"in{i}.png", data, "image/png")) for i, data in enumerate(inputs)]
    started = time.monotonic()
    answer = api.http.post(
        f"{api.base}/api/runs",
        data={"model_id": model.pk, "device_id": str(device.pk), "repeat": str(repeat)},
        files=files,
        headers={"X-CSRFToken": api.csrf, "Referer": api.base + "/"},
        timeout=600,
    )
    assert answer.status_code == 201, (answer.status_code, answer.text[:300])
    run_id = answer.json()["id"]
    while True:
        state = Run.objects.filter(pk=run_id).values_list("state", flat=True).first()
        if state in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.01)
    took = time.monotonic() - started
    assert state == "completed", Run.objects.get(pk=run_id).error_message
    return took, run_id


def wait_compared(run_id: str, timeout: float = 600) -> dict:
    from deployments.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.reference_state in ("done", "failed"):
            return {"state": run.reference_state, "cosine": (run.agreement or {}).get("cosine")}
        time.sleep(0.05)
    raise RuntimeError("the background worker did not compare the run in time")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--memory-mib", type=int, default=100)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("set DATABASE_URL to a PostgreSQL database of its own, and REDIS_URL")

    data_dir = Path(tempfile.mkdtemp(prefix="run-bench-"))
    port, tunnel_port, internal_port, demo_port = (free_port() for _ in range(4))
    env = environment(data_dir)
    env.update(
        RELAY_PUBLIC_URL=f"ws://127.0.0.1:{tunnel_port}/tunnel",
        DEVICE_ONLINE_THRESHOLD_SECONDS="30",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        # 100 inputs of about 1 MiB: within the run's limits.
        RUNS_MAX_TOTAL_BYTES=str(max(256, args.memory_mib * 2) * 1024 * 1024),
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from deploy_bench import setup_fixtures

    user, _, devices, cookie = setup_fixtures(1, 0)
    (device, token) = devices[0]
    model = setup(user)
    base = f"http://127.0.0.1:{port}"
    processes = start_stack(env, port, tunnel_port, internal_port)
    tasks = processes[-1]
    try:
        web = worker_pid(processes[0].pid)
        agent = start_agent_on(data_dir, base, device, token, demo_port)
        processes.append(agent)
        wait_connected(f"http://127.0.0.1:{internal_port}", env["RELAY_INTERNAL_SECRET"], 1)
        api = Api(base, cookie)
        wait_installed(api.deploy(model, [device]))
        from visiona_client.models_folder import model_slug

        demo = f"http://127.0.0.1:{demo_port}"
        overhead_rounds(api, model, device, args, demo, model_slug(model.name, model.pk))
        memory_round(api, model, device, args, web, agent.pid, tasks.pid)
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def start_stack(env: dict, port: int, tunnel_port: int, internal_port: int) -> list:
    """gunicorn, the relay and the background worker (last), once the web answers."""
    command = [sys.executable, "-m", "gunicorn", "visiona.wsgi", "-k", "gthread", "-w", "1"]
    command += ["--threads", "8", "-b", f"127.0.0.1:{port}", "--timeout", "600"]
    relay = [sys.executable, "manage.py", "run_relay", "--tunnel-port", str(tunnel_port)]
    relay += ["--internal-port", str(internal_port)]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env)]
    processes.append(subprocess.Popen(relay, cwd=ROOT, env=env))
    processes.append(
        subprocess.Popen([sys.executable, "manage.py", "db_worker"], cwd=ROOT, env=env)
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            break
        except requests.RequestException:
            time.sleep(0.1)
    return processes


def overhead_rounds(api: Api, model, device, args, demo: str, stem: str) -> None:
    """A (straight to the demo) and B (a run through visionA) in alternating pairs."""
    from deployments.models import Run

    calibration = sorted((SAMPLES / "calibration").glob("*.png"))
    inputs = [calibration[i % len(calibration)].read_bytes() for i in range(args.inputs)]
    direct_round(demo, stem, inputs[:1], 1)  # warm up: the demo loads the model
    ratios, direct, through, p50 = [], [], [], []
    for pair in range(args.pairs):
        order = ["direct", "run"] if pair % 2 == 0 else ["run", "direct"]
        times = {}
        for kind in order:
            if kind == "direct":
                times[kind] = direct_round(demo, stem, inputs, args.repeat)
            else:
                times[kind], run_id = run_round(api, model, device, inputs, args.repeat)
        p50.append(Run.objects.get(pk=run_id).latency["p50_ms"])
        direct.append(times["direct"])
        through.append(times["run"])
        ratios.append(times["run"] / times["direct"])
        print(
            f"pair {pair + 1} ({' '.join(order)}): direct {times['direct']:.3f} s, "
            f"run {times['run']:.3f} s, ratio {ratios[-1]:.2f}",
            flush=True,
        )
    overhead = [(t - d) / args.inputs * 1000 for t, d in zip(through, direct, strict=True)]
    print(f"\n{args.inputs} inputs x {args.repeat} timed repetitions per round")
    print(
        f"direct to the demo: median {statistics.median(direct):.3f} s; through visionA "
        f"and the tunnel: median {statistics.median(through):.3f} s"
    )
    print(
        f"run / direct: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, "
        f"max {max(ratios):.2f}) over {args.pairs} pairs; overhead per input: median "
        f"{statistics.median(overhead):.1f} ms (min {min(overhead):.1f}, "
        f"max {max(overhead):.1f}); the demo's own p50 per inference "
        f"{statistics.median(p50):.3f} ms"
    )
    print(f"background comparison: {wait_compared(run_id)}")


def start_agent_on(root: Path, server: str, device, token: str, demo_port: int):
    """``visiona-agent run --demo --demo-port``: its state written as ``pair`` writes it."""
    from visiona_client import state

    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "client"), "HOME": str(root)}
    env["NO_PROXY"] = "*"
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
    command = [sys.executable, "-m", "visiona_client", "run", "--demo"]
    command += ["--demo-port", str(demo_port), "--state-dir", str(state_dir)]
    log = (root / f"agent-{device.pk}-demo.log").open("w")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def memory_round(api: Api, model, device, args, web: int, agent: int, tasks: int) -> None:
    # Incompressible PNGs of about 1 MiB each (a 590 x 590 noise image).
    count = args.memory_mib
    inputs = [noise_png(590, seed) for seed in range(count)]
    total = sum(len(data) for data in inputs)
    samplers = {name: Sampler(pid) for name, pid in (("web", web), ("agent", agent))}
    samplers["worker"] = Sampler(tasks)
    before = {name: rss_kib(sampler.pid) for name, sampler in samplers.items()}
    for sampler in samplers.values():
        sampler.start()
    took, run_id = run_round(api, model, device, inputs, 1)
    compared = wait_compared(run_id)
    peaks = {name: sampler.stop() for name, sampler in samplers.items()}
    growth = ", ".join(
        f"{name} {before[name] / 1024:.0f} -> peak {peaks[name] / 1024:.0f} MiB "
        f"(+{(peaks[name] - before[name]) / 1024:.1f})"
        for name in samplers
    )
    print(
        f"memory: {count} inputs, {total / 2**20:.1f} MiB in all, run in {took:.1f} s "
        f"(compared: {compared['state']}); RSS {growth}"
    )


if __name__ == "__main__":
    main()
