"""Settings refuse unsafe production values; the Dockerfile runs what we expect."""

from __future__ import annotations

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
    assert re.search(rf"chown (-R )?visiona {re.escape(image_default)}\b", dockerfile)
    assert re.search(rf"^VOLUME {re.escape(image_default)}$", dockerfile, re.M)


def test_several_web_instances_without_shared_model_files_are_refused(tmp_path):
    result = run_manage(
        "check", **PRODUCTION_ENV, VISIONA_DATA_DIR=str(tmp_path), VISIONA_WEB_INSTANCES="3"
    )
    assert result.returncode != 0
    message = result.stderr
    assert "VISIONA_WEB_INSTANCES is 3" in message
    assert "MODELS_STORAGE_S3_BUCKET" in message and "MODELS_STORAGE_SHARED=1" in message


@pytest.mark.parametrize(
    "shared",
    [
        {"MODELS_STORAGE_S3_BUCKET": "visiona-models"},
        {"MODELS_STORAGE_SHARED": "1"},
    ],
    ids=["s3", "shared-folder"],
)
def test_several_web_instances_with_shared_model_files_start(tmp_path, shared):
    env = {**PRODUCTION_ENV, "VISIONA_DATA_DIR": str(tmp_path), "VISIONA_WEB_INSTANCES": "3"}
    result = run_manage("check", **env, **shared)
    assert result.returncode == 0, result.stderr


def test_a_public_bucket_address_that_is_not_one_stops_the_app(tmp_path):
    env = {**PRODUCTION_ENV, "VISIONA_DATA_DIR": str(tmp_path)}
    result = run_manage(
        "check",
        **env,
        MODELS_STORAGE_S3_BUCKET="visiona-models",
        MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL="https://files.example.com/bucket",
    )
    assert result.returncode != 0
    assert "MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL must be a scheme, host and port" in result.stderr


def test_the_images_static_manifest_cannot_be_turned_off(tmp_path, monkeypatch):
    from visiona.settings import STATIC_MANIFEST_MARKER, static_manifest_on

    # What a .env copied from .env.example says in a checkout: no manifest.
    monkeypatch.setenv("VISIONA_STATIC_MANIFEST", "0")
    assert not static_manifest_on(tmp_path)
    # The image's build leaves the marker beside its collected files: on, whatever is said.
    (tmp_path / STATIC_MANIFEST_MARKER).touch()
    assert static_manifest_on(tmp_path)
    monkeypatch.delenv("VISIONA_STATIC_MANIFEST")
    assert static_manifest_on(tmp_path)


def test_the_cache_key_prefix_is_configurable():
    env = {"REDIS_URL": "redis://127.0.0.1:9/0"}
    expression = 'settings.CACHES["default"]["KEY_PREFIX"]'
    assert settings_value(expression, **env) == "visiona"
    assert settings_value(expression, **env, REDIS_KEY_PREFIX="site-b") == "site-b"
