""".ci/run prepares the database DATABASE_URL names, not a fixed one."""

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres


def server_url() -> str:
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"


def database_exists(name: str) -> bool:
    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def test_it_creates_the_database_the_url_names():
    name = f"visiona ci-probe {uuid.uuid4().hex[:8]}"  # a space and a dash: quoted right
    url = f"{server_url()}/{name.replace(' ', '%20')}"
    try:
        first = subprocess.run(
            [ROOT / ".ci" / "ensure-database", url], capture_output=True, text=True, timeout=60
        )
        assert first.returncode == 0, first.stderr
        assert database_exists(name)
        again = subprocess.run(
            [ROOT / ".ci" / "ensure-database", url], capture_output=True, text=True, timeout=60
        )
        assert again.returncode == 0 and "creating" not in again.stdout
    finally:
        with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
