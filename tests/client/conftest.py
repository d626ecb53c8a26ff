"""The agent (client/) as a user runs it: its own process, over real HTTP.

``agent(...)`` runs ``python -m visiona_client`` with only client/ on its path
(no Django, no project code), its state in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices import client_package

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"
AGENT_TIMEOUT_SECONDS = 60


def agent_environment(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(CLIENT_DIR),
        "HOME": str(tmp_path / "home"),
        # The live server is on loopback: no proxy may come between.
        "NO_PROXY": "*",
    }


@pytest.fixture
def state_dir(tmp_path) -> Path:
    return tmp_path / "agent-state"


@pytest.fixture
def agent(tmp_path, state_dir):
    """Run one agent command to its end: ``agent("status")`` -> CompletedProcess."""

    def run(*arguments: str, state: Path | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "visiona_client", *arguments]
        command += ["--state-dir", str(state or state_dir)]
        return subprocess.run(
            command,
            env=agent_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=AGENT_TIMEOUT_SECONDS,
            check=False,
        )

    return run


@pytest.fixture
def start_agent(tmp_path, state_dir):
    """Start a long-running agent command; it is stopped at the end of the test."""
    started: list[subprocess.Popen] = []

    def start(*arguments: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "visiona_client", *arguments]
        command += ["--state-dir", str(state_dir)]
        process = subprocess.Popen(
            command,
            env=agent_environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.fixture(scope="session")
def built_wheel_dir(tmp_path_factory) -> Path:
    """The agent's wheel, built once per run the way ``manage.py build_client`` does."""
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("downloads")
    with override_settings(CLIENT_DOWNLOADS_DIR=folder):
        client_package.build_wheel()
    return folder


# Deployments: the agent against a fake of visionA's agent endpoints ---------------


@pytest.fixture
def fake_visiona():
    from tests.client.fake_visiona import FakeVisiona

    with FakeVisiona() as fake:
        yield fake


@pytest.fixture
def models(tmp_path):
    from visiona_client.models_folder import ModelsFolder

    return ModelsFolder(tmp_path / "models")


@pytest.fixture
def make_runner(fake_visiona, models):
    """A JobRunner talking to the fake with the device token, with fast backoffs."""
    from visiona_client.backoff import Backoff
    from visiona_client.deployment_job import JobRunner
    from visiona_client.server_api import ServerApi

    from tests.client.fake_visiona import DEVICE_TOKEN

    def make(**options):
        api = ServerApi(fake_visiona.url, token=options.pop("token", DEVICE_TOKEN), timeout=5)
        options.setdefault("backoff", lambda: Backoff(base=0.01, cap=0.05))
        return JobRunner(api=api, models=models, chip=options.pop("chip", "KL720"), **options)

    return make


@pytest.fixture
def deploy(make_runner):
    """Run one of the fake's deployments to its end in this thread: ``deploy(d)``."""
    from visiona_client.deployment_job import Job, WorkItem

    def run(deployment, runner=None):
        job = Job(WorkItem.parse(deployment.work_item()))
        (runner or make_runner()).run(job)
        return job

    return run
