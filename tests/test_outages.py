"""Real outages, production-like: gunicorn with DEBUG off, PostgreSQL at a port where
nothing listens, and sessions in a redis-server this test starts and then stops.

A signed-in session is written straight into Redis (Django's cache session format),
since with the database down nobody could sign in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.processes import free_port
from tests.conftest import _missing_service
from visiona.sessions import SIGNED_IN_AT_KEY

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["/", "/models/", "/devices/", "/convert/", "/conversions/"]
SESSION_KEY = "outagetestsession0000000000000001"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_port() -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing_service("redis-server on PATH")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        stop(process)


class App:
    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str, *, cookie: bool = True, language: str = "en") -> tuple[int, dict, str]:
        headers = {"Accept-Language": language}
        if cookie:
            headers["Cookie"] = f"visiona_session={SESSION_KEY}"
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()


@contextlib.contextmanager
def gunicorn(data_dir: Path, **env: str) -> Iterator[App]:
    """The app as in production (DEBUG off), PostgreSQL at a port where nothing listens."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "visiona.settings",
        "DEBUG": "0",
        "SECRET_KEY": "outage-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/visiona",
        "VISIONA_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "CRITICAL",
        **env,
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "visiona.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread"),
            *("--threads", "4", "--log-level", "critical"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield App(port)
    finally:
        stop(process)


def write_signed_in_session(redis_port: int) -> None:
    """A session as the app would have stored it at sign-in (KEY_PREFIX "visiona")."""
    from django_redis.cache import RedisCache

    store = RedisCache(f"redis://127.0.0.1:{redis_port}/0", {"KEY_PREFIX": "visiona"})
    store.set(
        f"django.contrib.sessions.cache{SESSION_KEY}",
        {
            "_auth_user_id": "1",
            "_auth_user_backend": "visiona.auth.backends.PasswordBackend",
            "_auth_user_hash": "0" * 64,
            SIGNED_IN_AT_KEY: time.time(),
        },
        timeout=600,
    )
    store.close()


def stop_redis(redis_port: int) -> None:
    import redis

    with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it goes
        redis.Redis(port=redis_port).shutdown(nosave=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", redis_port), timeout=0.2).close()
            time.sleep(0.05)
        except OSError:
            return
    raise TimeoutError("redis-server did not stop")


def assert_unavailable_page(answer: tuple[int, dict, str], heading: str, message: str) -> None:
    status, headers, body = answer
    assert status == 503, body[:500]
    assert headers["Content-Type"].startswith("text/html")
    assert heading in body
    assert message in body
    assert "Traceback" not in body and "psycopg" not in body


def assert_envelope(answer: tuple[int, dict, str], code: str) -> None:
    status, headers, body = answer
    assert status == 503, body[:500]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == code


@pytest.mark.redis
def test_outages_answer_503_pages_envelopes_and_health_json(redis_port, tmp_path):
    with gunicorn(tmp_path, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0") as app:
        write_signed_in_session(redis_port)

        # PostgreSQL down, a signed-in session in Redis.
        for path in PAGES:
            assert_unavailable_page(
                app.get(path),
                "Temporarily unavailable",
                "The service is temporarily unavailable. Please try again in a moment.",
            )
        assert_unavailable_page(
            app.get("/models/", language="zh-hant"),
            "暫時無法使用",
            "服務暫時無法使用，請稍後再試。",  # noqa: RUF001
        )
        assert_envelope(app.get("/api/models/"), "database_unavailable")
        status, headers, body = app.get("/healthz")
        assert (status, headers["Content-Type"]) == (503, "application/json")
        assert json.loads(body) == {
            "status": "unavailable",
            "checks": {"postgres": "down", "redis": "ok"},
        }

        # Then Redis goes down too.
        stop_redis(redis_port)
        for path in ["/", "/models/"]:
            assert_unavailable_page(
                app.get(path),
                "Temporarily unavailable",
                "Sign-in is temporarily unavailable. Please try again in a moment.",
            )
        assert_unavailable_page(
            app.get("/devices/", language="zh-hant"),
            "暫時無法使用",
            "登入功能暫時無法使用，請稍後再試。",  # noqa: RUF001
        )
        assert_envelope(app.get("/api/models/"), "session_store_unavailable")
        for cookie in (True, False):
            status, headers, body = app.get("/healthz", cookie=cookie)
            assert (status, headers["Content-Type"]) == (503, "application/json")
            assert json.loads(body) == {
                "status": "unavailable",
                "checks": {"postgres": "down", "redis": "down"},
            }


def test_database_sessions_answer_503_when_postgres_is_down(tmp_path):
    """Without Redis the session itself is in the database: its load, in a
    middleware, is where the outage shows first."""
    with gunicorn(tmp_path, REDIS_URL="") as app:
        for path in ["/", "/models/"]:
            assert_unavailable_page(
                app.get(path),
                "Temporarily unavailable",
                "The service is temporarily unavailable. Please try again in a moment.",
            )
        assert_envelope(app.get("/api/models/"), "database_unavailable")
        status, _, body = app.get("/healthz")
        assert (status, json.loads(body)) == (
            503,
            {"status": "unavailable", "checks": {"postgres": "down"}},
        )
