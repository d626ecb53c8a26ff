"""Settings refuse unsafe production values; the Dockerfile runs what we expect."""

from __future__ import annotations

import json
import os
import re
import secrets
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
TEST_ONLY_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "LOG_FORMAT",
    "RELAY_INTERNAL_SECRET",
    "RELAY_PUBLIC_URL",
}


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
    return json.loads(re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)[-1])


def test_the_image_runs_gunicorn_with_gthread_workers(dockerfile, tmp_path):
    command = gunicorn_command(dockerfile)
    assert command[0] == "gunicorn"
    assert command[-1] == "visiona.wsgi:application"
    # The settings file the loopback stack runs too; gunicorn checks it and loads the app.
    env = production_like_env(**PRODUCTION_ENV, VISIONA_DATA_DIR=str(tmp_path))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "--check-config", "--print-config", *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = dict(
        re.split(r"\s*=\s*", line, maxsplit=1) for line in result.stdout.splitlines() if "=" in line
    )
    assert printed["worker_class"] == "gthread"
    assert (printed["workers"], printed["threads"]) == ("2", "8")
    assert printed["bind"] == "['0.0.0.0:8000']"


def settings_value(expression: str, cwd: Path = ROOT, **env: str) -> str:
    """``expression`` evaluated against the production settings, in a fresh process."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "shell",
            "-c",
            f"from django.conf import settings; print({expression})",
        ],
        cwd=cwd,
        env=production_like_env(**PRODUCTION_ENV, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's own banner


def test_a_relative_data_dir_is_taken_from_the_project_not_the_working_directory(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = os.path.relpath(tmp_path / "data", ROOT)
    value = settings_value(
        "settings.DATA_DIR", cwd=elsewhere, PYTHONPATH=str(ROOT), VISIONA_DATA_DIR=relative
    )
    assert Path(value) == (tmp_path / "data").resolve()


def test_an_empty_data_dir_is_the_projects_var_folder():
    # What a .env copied from .env.example gives (`VISIONA_DATA_DIR=`), also in the image.
    assert Path(settings_value("settings.DATA_DIR", VISIONA_DATA_DIR="")) == ROOT / "var"


def test_an_unusable_data_dir_stops_the_app_with_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_manage("check", **PRODUCTION_ENV, VISIONA_DATA_DIR=str(blocker / "data"))
    assert result.returncode != 0
    assert "VISIONA_DATA_DIR" in result.stderr and "can write" in result.stderr


def test_collected_static_files_live_outside_the_data_folder(tmp_path):
    static_root = Path(settings_value("settings.STATIC_ROOT", VISIONA_DATA_DIR=str(tmp_path)))
    assert not static_root.is_relative_to(tmp_path)
    assert static_root.is_relative_to(ROOT)


def test_the_images_data_folder_is_where_an_env_example_copy_points(dockerfile):
    env_example = (ROOT / ".env.example").read_text()
    documented = re.search(r"^VISIONA_DATA_DIR=(.*)$", env_example, re.M).group(1).strip()
    workdir = re.findall(r"^WORKDIR (\S+)", dockerfile, re.M)[-1]
    image_default = re.search(r"VISIONA_DATA_DIR=(\S+)", dockerfile).group(1)
    # Settings resolve an empty or relative value against the project folder (WORKDIR).
    assert Path(workdir, documented or "var") == Path(image_default)
    assert re.search(rf"chown visiona {re.escape(image_default)}\b", dockerfile)
    assert re.search(rf"^VOLUME {re.escape(image_default)}$", dockerfile, re.M)
