"""What the fleet's end-to-end tests share: the background worker as production runs it,
many demo agents paired quickly, and reading a device's models through its tunnel.

The live server and the worker use the database task backend (rows the worker takes),
so a rollout advances exactly as in production: the agents' reports commit, a task is
enqueued, ``manage.py db_worker`` in its own process advances the rollout and pushes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from visiona_client import state as agent_state

from devices import services as device_services
from tests.relay.conftest import ROOT, Agents, database_url
from tests.waiting import wait_for

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


class Worker:
    """``manage.py db_worker`` against the test database, with the relay's secret and the
    registry's prefix, so the pushes it sends after advancing a rollout reach the agents."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log: typing.IO | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "VISIONA_DATA_DIR": str(django_settings.DATA_DIR),
            "RELAY_INTERNAL_SECRET": django_settings.RELAY_INTERNAL_SECRET,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        }
        if django_settings.REDIS_URL:
            env["REDIS_URL"] = django_settings.REDIS_URL
            env["VISIONA_TEST_CACHE_KEY_PREFIX"] = django_settings.TEST_CACHE_KEY_PREFIX
        command = [sys.executable, "manage.py", "db_worker", "--interval", "0.2"]
        command += ["--no-startup-delay", "--no-reload"]
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True
        )
        return self

    def stop(self) -> str:
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        return output


@pytest.fixture
def worker(settings, relay):
    """The live server enqueues to the database; this worker runs the tasks."""
    settings.TASKS = DATABASE_TASKS
    running = Worker().start()
    yield running
    print("worker output:\n" + running.stop()[-20_000:])  # shown when the test fails


def pair_quickly(agents: Agents, *, name: str, serial: str) -> tuple[str, Path]:
    """A demo agent's pairing done in this process (the exchange is the service the API
    calls), its state folder written as ``visiona-agent pair`` writes it: 20 pairings
    without 20 more processes. The device id and the state folder."""
    issued = device_services.pairing_code_create(user=agents.user)
    paired = device_services.device_pair(
        code=issued.code, serial=serial, chip="KL720", name=name, client_address="127.0.0.1"
    )
    state_dir = agents.tmp_path / f"agent-{name}"
    agent_state.save(
        state_dir,
        agent_state.State(
            server=agents.live_server.url,
            device_id=str(paired.device.pk),
            token=paired.token,
            paired_at=datetime.now(UTC).isoformat(timespec="seconds"),
            serial=serial,
            chip="KL720",
        ),
    )
    return str(paired.device.pk), state_dir


def models_on_device(http, device_id: str) -> list[dict]:
    """The device's models, as its local API lists them, read through its tunnel."""
    answer = http.get(f"/api/devices/{device_id}/agent/api/models")
    assert answer.status_code == 200, answer.text
    return json.loads(answer.content)["models"]


def digests_on_device(http, device_id: str) -> set[str]:
    return {entry["sha256"] for entry in models_on_device(http, device_id)}


def file_digests(models_dir: Path) -> set[str]:
    """The SHA-256 of every model file in the folder (what is really on the disk)."""
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in models_dir.glob("*.nef")}


def wait_rollout(http, rollout_id: str, *states: str, timeout: float = 300.0) -> dict:
    def reached():
        body = http.get(f"/api/rollouts/{rollout_id}").json()
        return body if body["state"] in states else None

    return wait_for(reached, timeout=timeout, interval=0.5)
