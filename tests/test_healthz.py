"""/healthz pings every configured dependency; a failing one is named in a 503.

Each case runs the app in a fresh process so the settings really point at the
dependency under test (a closed port means "down").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"]


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
