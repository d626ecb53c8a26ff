"""Settings refuse unsafe production values; the Dockerfile runs what we expect."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "visiona.example.com",
    "SECURE_HSTS_PRELOAD": "1",
}


# Set by tests/settings.py in this process; a production process has none of them.
TEST_ONLY_VARIABLES = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "LOG_FORMAT"}


def production_like_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    return {**clean, "DJANGO_SETTINGS_MODULE": "visiona.settings", **env}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_like_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_refuses_a_weak_secret_key():
    result = run_manage("check", **{**PRODUCTION_ENV, "SECRET_KEY": "django-insecure-short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOWED_HOSTS"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_it_rejects_a_malformed_boolean():
    result = run_manage("check", **{**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "maybe"})
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be a boolean" in result.stderr


def test_the_deploy_check_passes_for_a_production_environment(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        VISIONA_DATA_DIR=str(tmp_path),
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_image_is_slim_and_runs_as_a_user(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}


def test_the_image_checks_healthz(dockerfile):
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.+)$", dockerfile, re.M | re.S)
    assert healthcheck and "/healthz" in healthcheck.group(1)


def gunicorn_command(dockerfile: str) -> list[str]:
    cmd = re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)[-1]
    shell_line = json.loads(cmd)[-1].removeprefix("exec ")
    expanded = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: m.group(2) or "8000", shell_line)
    return shlex.split(expanded)


def test_the_image_runs_gunicorn_with_gthread_workers(dockerfile, tmp_path):
    command = gunicorn_command(dockerfile)
    assert command[0] == "gunicorn"
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert command[1] == "visiona.wsgi:application"
    # gunicorn itself validates the arguments and loads the application.
    env = production_like_env(**PRODUCTION_ENV, VISIONA_DATA_DIR=str(tmp_path))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "--check-config", *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
