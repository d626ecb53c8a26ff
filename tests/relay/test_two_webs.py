"""Two relay nodes and two web instances on one PostgreSQL and Redis.

Web instance A is the live server; web instance B is gunicorn in its own process on
the same test database and the run's Redis prefix, so it shares the registry and the
signed-in session. Each reaches the device through whichever node holds its tunnel.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connections

from devices import tunnel_registry
from tests.e2e.conftest import VisionA
from tests.relay.conftest import ROOT, Relay, database_url, free_port, wait_connected
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def second_relay():
    node = Relay().start()
    yield node
    print("second relay output:\n" + node.stop())


@pytest.fixture
def web_b() -> Iterator[str]:
    """gunicorn on the test database and the run's Redis prefix: its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "VISIONA_TEST_CACHE_KEY_PREFIX": django_settings.TEST_CACHE_KEY_PREFIX,
        "VISIONA_DATA_DIR": str(django_settings.DATA_DIR),
        "RELAY_INTERNAL_SECRET": django_settings.RELAY_INTERNAL_SECRET,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "visiona.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread"),
            *("--threads", "4"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError("web instance B exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    try:
        wait_for(listening, timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        print("web instance B output:\n" + log.read())  # shown when the test fails
        log.close()


@pytest.fixture
def webs(live_server, web_b, alice, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    yield VisionA(live_server.url, alice), VisionA(web_b, alice)
    connections.close_all()


def reaches(web: VisionA, device) -> None:
    response = web.get(f"/api/devices/{device.pk}/agent/api/system/deps")
    assert response.status_code == 200, response.text
    assert response.json()["dongles"][0]["serial"] == device.serial


def entry_on(node: Relay, device_id: str):
    entry = tunnel_registry.lookup(device_id)
    return entry if entry is not None and entry.node_url == node.internal_url else None


def test_any_web_instance_reaches_the_device_on_any_node(
    relay, second_relay, connected_agent, webs, settings
):
    web_a, web_b = webs
    node_b, node_a = relay, second_relay
    device, device_id = connected_agent.device, connected_agent.device_id
    wait_for(lambda: entry_on(node_b, device_id), timeout=10)

    # On node B, reached through web instance A (and B).
    reaches(web_a, device)
    reaches(web_b, device)

    # The agent moves to node A (visionA names it; node B goes away).
    settings.RELAY_PUBLIC_URL = node_a.tunnel_url
    node_b.stop()
    # The agent learns the new node at its next heartbeat, and dials it after the
    # backoff its failed dials to node B grew (full jitter, doubling each time):
    # a generous bound, met as soon as it connects.
    wait_connected(node_a, device_id, timeout=90)
    wait_for(lambda: entry_on(node_a, device_id), timeout=10)

    reaches(web_b, device)
    reaches(web_a, device)
