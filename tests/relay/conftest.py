"""The tunnel over real sockets: the relay and the agent each in a process of its own.

``relay`` runs ``manage.py run_relay`` on free ports against the test database
(its real name, so it sees what a ``transaction=True`` test wrote) and the run's
Redis prefix. ``connected_agent`` pairs a demo agent through the live server's
API and runs it until the relay holds its tunnel. The web side is a plain
``requests`` call to the internal port with the shared secret.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection

from deploy.processes import free_port
from devices import services, token_changes
from devices.models import Device
from relay import auth
from tests.client.conftest import agent_environment
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
# How long the test relay waits for a device's answer to start.
RELAY_TIMEOUT_SECONDS = 2
# A change made through the app is seen at the node's next re-check (every 2 s); one
# behind its back only at the full re-check, a minute later (devices/token_changes.py).
# A deadline of half that minute still tells the two apart, however loaded the machine.
RECHECK_BACKSTOP_SECONDS = token_changes.FULL_RECHECK_SECONDS / 2


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Relay:
    tunnel_port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: typing.IO | None = None
    # Set last, over the test's own: e.g. a database or Redis that is not there.
    env: dict[str, str] = field(default_factory=dict)
    # Started once both ports listen; False: the internal one only (the probes answer
    # there first, and the tunnel port waits for the registry).
    wait_for_tunnel_port: bool = True

    @property
    def tunnel_url(self) -> str:
        return f"ws://127.0.0.1:{self.tunnel_port}/tunnel"

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}"

    def start(self) -> Relay:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "VISIONA_DATA_DIR": str(settings.DATA_DIR),
            "RELAY_INTERNAL_SECRET": settings.RELAY_INTERNAL_SECRET,
            "RELAY_REQUEST_TIMEOUT_SECONDS": str(RELAY_TIMEOUT_SECONDS),
            # Everything it would say, so a test can check no secret is among it.
            "LOG_LEVEL": "DEBUG",
            **self.env,
        }
        if settings.REDIS_URL:
            env["REDIS_URL"] = settings.REDIS_URL
            env["VISIONA_TEST_CACHE_KEY_PREFIX"] = settings.TEST_CACHE_KEY_PREFIX
        else:
            env.pop("REDIS_URL", None)
        env.update(self.env)
        command = [sys.executable, "manage.py", "run_relay"]
        command += ["--tunnel-port", str(self.tunnel_port)]
        command += ["--internal-port", str(self.internal_port)]
        # A file, not a pipe: a pipe nobody reads fills up and blocks the relay's logging.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True
        )
        # A backstop, not a measure: a relay starting on a machine whose cores are busy
        # with other work took over a minute (Django's start, the database's first
        # connection); how fast it starts is not what these tests check.
        wait_for(self._listening, timeout=180)
        return self

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the relay exited: {self.output()}")
        ports = [self.internal_port, self.tunnel_port][: 2 if self.wait_for_tunnel_port else 1]
        try:
            for port in ports:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self, *, kill: bool = False) -> str:
        """Stop it (SIGTERM, or SIGKILL); its output so far."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
        self.process.wait(timeout=15)
        self.process = None
        output = self.output()
        self.log.close()
        return output

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def request(self, method: str, path: str, *, secret: str | None = "", **kwargs):
        headers = kwargs.pop("headers", {})
        if secret is not None:
            headers["X-Relay-Secret"] = secret or settings.RELAY_INTERNAL_SECRET
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.internal_url + path, headers=headers, **kwargs)

    def sessions(self) -> list[dict]:
        return self.get("/sessions").json()["sessions"]


@pytest.fixture(autouse=True)
def relay_worker_threads(monkeypatch):
    """The relay's worker threads (relay/auth.py), new for each test and gone after it.

    The process's one pool would carry a thread's database connection from one test to
    the next (CONN_MAX_AGE; SQLite's in-memory one is never closed), and each call
    checks its thread's connection first (``close_old_connections``): database access,
    which a test without the database may not make. test_token_checks.py then failed
    after test_in_process.py or test_node_liveness.py."""
    pool = ThreadPoolExecutor(max_workers=auth._WORKERS, thread_name_prefix="relay-db-test")
    monkeypatch.setattr(auth, "_EXECUTOR", pool)
    yield pool
    # Before the test database is flushed: no connection of these threads stays open.
    auth.close_connections()
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def relay(request, settings):
    """A running relay node; the live server tells agents to dial it. A test marked
    ``relay_env(NAME="value")`` gives the node those settings over the defaults."""
    marker = request.node.get_closest_marker("relay_env")
    node = Relay(env=dict(marker.kwargs) if marker else {}).start()
    settings.RELAY_PUBLIC_URL = node.tunnel_url
    yield node
    print("relay output:\n" + node.stop())  # shown when the test fails


@pytest.fixture
def fast_heartbeats(settings):
    # The agent beats (and learns tunnel_url) at a third of this: every second.
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 3


class Agents:
    """Demo agents paired through the live server's API, each in its own process."""

    def __init__(self, live_server, user, tmp_path: Path) -> None:
        self.live_server = live_server
        self.user = user
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.count = 0

    def _command(self, *arguments: str, state_dir: Path) -> list[str]:
        command = [sys.executable, "-m", "visiona_client", *arguments]
        return [*command, "--state-dir", str(state_dir)]

    def pair(self, *, serial: str = "") -> Path:
        """Pair a demo agent; ``serial`` (with chip KL720) tells several of them apart."""
        self.count += 1
        state_dir = self.tmp_path / f"agent-{self.count}"
        issued = services.pairing_code_create(user=self.user)
        dongle = ["--serial", serial, "--chip", "KL720"] if serial else []
        result = subprocess.run(
            self._command(
                "pair",
                "--server",
                self.live_server.url,
                "--code",
                issued.code,
                "--demo",
                *dongle,
                state_dir=state_dir,
            ),
            env=agent_environment(self.tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return state_dir

    def run(self, state_dir: Path, *extra: str) -> subprocess.Popen:
        """``visiona-agent -v run --demo``, with ``extra`` arguments (``--models-dir``...)."""
        # Its log goes to a file: a pipe nobody reads would fill up and block the agent.
        log = self.tmp_path / f"agent-log-{len(self.processes)}.txt"
        with log.open("w") as stream:
            process = subprocess.Popen(
                self._command(
                    "-v",
                    "run",
                    "--server",
                    self.live_server.url,
                    "--demo",
                    *extra,
                    state_dir=state_dir,
                ),
                env=agent_environment(self.tmp_path),
                stdout=stream,
                stderr=subprocess.STDOUT,
                text=True,
            )
        process.log_path = log
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            print(f"agent {process.pid} log:\n{agent_log(process)}")  # shown when a test fails


@pytest.fixture
def agents(live_server, alice, tmp_path, fast_heartbeats):
    pool = Agents(live_server, alice, tmp_path)
    yield pool
    pool.stop_all()


@dataclass
class ConnectedAgent:
    device: Device
    process: subprocess.Popen
    state_dir: Path

    @property
    def device_id(self) -> str:
        return str(self.device.pk)


def wait_connected(relay: Relay, device_id: str, *, timeout: float = 20.0) -> dict:
    def session():
        for entry in relay.sessions():
            if entry["device_id"] == device_id:
                return entry
        return None

    return wait_for(session, timeout=timeout, interval=0.1)


@pytest.fixture
def connected_agent(relay, agents) -> ConnectedAgent:
    """A demo agent whose tunnel the relay holds."""
    state_dir = agents.pair()
    device = Device.objects.latest("created_at")
    process = agents.run(state_dir)
    wait_connected(relay, str(device.pk))
    return ConnectedAgent(device=device, process=process, state_dir=state_dir)


def agent_log(process: subprocess.Popen) -> str:
    return process.log_path.read_text()


def relay_logged(relay: Relay, message: str, *values: str) -> bool:
    """Whether one line of the relay's log says ``message`` with each of ``values``
    (JSON or text lines alike): what it did, instead of how long it took."""
    return any(
        message in line and all(value in line for value in values)
        for line in relay.output().splitlines()
    )
