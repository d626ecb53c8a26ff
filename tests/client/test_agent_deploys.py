"""``visiona-agent run --demo --models-dir``, in its own process, installs what it is sent.

visionA is the fake of its agent endpoints (tests/client/fake_visiona.py); the
agent runs as on a device, with only client/ on its path.
"""

from __future__ import annotations

import json
import signal

import requests
from visiona_client import state

from deploy.processes import free_port
from tests.client.fake_visiona import DEVICE_TOKEN, Deployment, nef_bytes
from tests.waiting import wait_for

SIZE = 3 * 1024 * 1024


def pair(state_dir, server: str) -> None:
    state.save(
        state_dir,
        state.State(
            server=server,
            device_id="d1",
            token=DEVICE_TOKEN,
            paired_at="2026-01-01T00:00:00+00:00",
            chip="KL720",
            heartbeat_interval_seconds=1,
        ),
    )


def test_the_agent_installs_a_deployment_and_the_demo_lists_it(
    fake_visiona, state_dir, tmp_path, start_agent, agent
):
    pair(state_dir, fake_visiona.url)
    models_dir = tmp_path / "device-models"
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    port = free_port()
    process = start_agent(
        "run", "--demo", "--demo-port", str(port), "--models-dir", str(models_dir)
    )
    wait_for(lambda: deployment.state == "installed", timeout=20)
    assert (models_dir / "person-detector-7.nef").read_bytes() == deployment.data
    listing = requests.get(f"http://127.0.0.1:{port}/api/models", timeout=5).json()
    assert listing["demo"] is True
    [entry] = listing["models"]
    assert entry["sha256"] == deployment.sha256
    assert entry["size_bytes"] == SIZE
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert process.returncode == 0

    status = agent("status", "--json", "--models-dir", str(models_dir))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["models"] == [entry]
    text = agent("status", "--models-dir", str(models_dir)).stdout
    assert "Person detector (person-detector-7.nef, 3145728 bytes" in text


def test_a_stopped_agent_resumes_the_download_when_it_starts_again(
    fake_visiona, state_dir, start_agent
):
    pair(state_dir, fake_visiona.url)
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    half = SIZE // 2
    deployment.pause_at = half
    first = start_agent("run", "--demo")
    part = state_dir / "models" / ".partial" / f"{deployment.id}.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= half)
    first.send_signal(signal.SIGTERM)  # as a service manager stops it
    first.communicate(timeout=10)
    assert first.returncode == 0
    assert part.stat().st_size == half
    meta = json.loads(part.with_suffix(".json").read_text())
    assert meta["bytes_on_disk"] == half
    deployment.resume.set()
    start_agent("run", "--demo")  # the default models folder: <state-dir>/models
    wait_for(lambda: deployment.state == "installed", timeout=20)
    assert deployment.requests[-1]["Range"] == f"bytes={half}-"
    assert deployment.served_per_request[-1] == SIZE - half  # only the rest
    assert (state_dir / "models" / "person-detector-7.nef").read_bytes() == deployment.data
