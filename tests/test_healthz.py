"""/healthz pings every configured dependency; a failing one is named in a 503.

Each case runs the app in a fresh process so the settings really point at the
dependency under test (a closed port means "down").
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def healthz_in_process(**env: str) -> tuple[int, dict]:
    answer = run_healthz(**env)
    return answer["status"], answer["body"]


def run_healthz(**env: str) -> dict:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_LEVEL": "CRITICAL"}
    for name, value in env.items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_is_ok_on_the_embedded_defaults():
    status, body = healthz_in_process(DATABASE_URL=None, REDIS_URL=None)
    assert (status, body) == (200, {"status": "ok", "checks": {"sqlite": "ok"}})


def current_database_url() -> str:
    """The database this test run really uses (the test database, which exists)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.redis
def test_it_is_ok_when_postgres_and_redis_answer(db):
    status, body = healthz_in_process(DATABASE_URL=current_database_url())
    assert (status, body) == (200, {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}})


def test_it_names_postgres_when_postgres_is_down():
    status, body = healthz_in_process(
        DATABASE_URL="postgres://postgres@127.0.0.1:9/visiona", REDIS_URL=None
    )
    assert status == 503
    assert body == {"status": "unavailable", "checks": {"postgres": "down"}}


def test_it_names_redis_when_redis_is_down():
    status, body = healthz_in_process(DATABASE_URL=None, REDIS_URL="redis://127.0.0.1:9/0")
    assert status == 503
    assert body == {"status": "unavailable", "checks": {"sqlite": "ok", "redis": "down"}}


@pytest.mark.postgres
def test_it_names_only_redis_when_postgres_is_up(db):
    status, body = healthz_in_process(
        DATABASE_URL=current_database_url(), REDIS_URL="redis://127.0.0.1:9/0"
    )
    assert status == 503
    assert body["checks"] == {"postgres": "ok", "redis": "down"}
    assert "Connection" not in json.dumps(body)  # raw errors go to the log only


def test_it_runs_in_this_process_too(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    expected = "postgres" if connection.vendor == "postgresql" else "sqlite"
    assert response.json()["checks"][expected] == "ok"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts TCP connections and never answers: a hung dependency."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:  # closed by the fixture
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for sock in accepted:
            sock.close()
        thread.join(timeout=5)


# How long these take is not asserted (a loaded machine stretches any figure): what
# bounds them is the deadline and the drivers' timeouts, tested below.
def test_a_hung_postgres_is_down(silent_port):
    answer = run_healthz(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_port}/visiona", REDIS_URL=None
    )
    assert (answer["status"], answer["body"]["checks"]) == (503, {"postgres": "down"})


def test_a_hung_redis_is_down(silent_port):
    answer = run_healthz(DATABASE_URL=None, REDIS_URL=f"redis://127.0.0.1:{silent_port}/0")
    assert (answer["status"], answer["body"]["checks"]) == (503, {"sqlite": "ok", "redis": "down"})


def test_a_check_that_never_ends_is_down_at_the_deadline(monkeypatch, db):
    from visiona import health

    release = threading.Event()
    monkeypatch.setattr(
        health,
        "configured_checks",
        lambda: {"postgres": lambda: release.wait(), "redis": lambda: None},
    )
    try:
        # Hangs for ever unless the deadline answers for the hung check.
        assert health.run_checks() == {"postgres": "down", "redis": "ok"}
    finally:
        release.set()


@pytest.mark.postgres
def test_the_database_probe_hands_its_timeouts_to_the_driver(monkeypatch, db):
    from django.db.backends.postgresql import base

    from visiona import health

    seen = {}

    def refuse(**params):
        seen.update(params)
        raise base.Database.OperationalError("refused by the test")

    monkeypatch.setattr(base.Database, "connect", refuse)
    assert health.run_checks()["postgres"] == "down"
    assert seen["connect_timeout"] == health.CHECK_TIMEOUT
    assert f"statement_timeout={health.CHECK_TIMEOUT * 1000}" in seen["options"]


@pytest.mark.redis
def test_the_redis_client_has_the_checks_timeouts(db):
    from django_redis import get_redis_connection

    from visiona import health

    kwargs = get_redis_connection("default").connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] <= health.CHECK_TIMEOUT
    assert kwargs["socket_timeout"] <= health.CHECK_TIMEOUT


@pytest.mark.postgres
def test_the_database_check_leaves_no_connection_open(db):
    from django.db import connection as app_connection

    from visiona.health import run_checks

    def backends() -> int:
        with app_connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    before = backends()
    for _ in range(3):
        assert run_checks()["postgres"] == "ok"
    assert backends() == before


class TestWhateverTheCookies:
    """/healthz answers before sessions load: a session cookie changes nothing."""

    def test_with_the_session_store_down(self, client, session_store_down, db):
        client.cookies["visiona_session"] = "a" * 32
        response = client.get("/healthz")
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"status", "checks"}

    def test_the_cookie_is_left_alone(self, alice_client):
        response = alice_client.get("/healthz")
        assert response.status_code == 200
        assert "visiona_session" not in response.cookies
        assert "Cookie" not in response.get("Vary", "")
