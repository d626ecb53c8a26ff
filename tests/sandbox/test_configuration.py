"""Sandbox mode: the upstream defaults it brings, and its warnings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox.checks import sandbox_outside_development

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_VARIABLES = {
    "CONVERTER_BASE_URL",
    "FAA_BASE_URL",
    "MC_ISSUER",
    "MC_SERVICE_ISSUER",
    "MC_SERVICE_CLIENT_ID",
    "MC_SERVICE_CLIENT_SECRET",
    "OIDC_OP_ISSUER",
    "OIDC_RP_CLIENT_ID",
    "VISIONA_SANDBOX_BASE_URL",
}
PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({name: "
    "getattr(s, name) for name in ['CONVERTER_BASE_URL', 'FAA_BASE_URL', 'MC_SERVICE_ISSUER', "
    "'MC_SERVICE_CLIENT_ID', 'MC_SERVICE_CLIENT_SECRET', 'OIDC_ENABLED']}))"
)


def settings_in_a_fresh_process(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in UPSTREAM_VARIABLES}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "visiona.settings",
            "DEBUG": "1",
            "VISIONA_DATA_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_sandbox_stands_in_for_unset_upstreams(tmp_path):
    values = settings_in_a_fresh_process(
        tmp_path, VISIONA_SANDBOX="1", FAA_BASE_URL="http://faa.internal:9000"
    )
    assert values == {
        "CONVERTER_BASE_URL": "http://127.0.0.1:8000/sandbox/converter",
        "FAA_BASE_URL": "http://faa.internal:9000",
        "MC_SERVICE_ISSUER": "http://127.0.0.1:8000/sandbox/mc",
        "MC_SERVICE_CLIENT_ID": "visiona-sandbox",
        "MC_SERVICE_CLIENT_SECRET": "sandbox-secret",
        "OIDC_ENABLED": False,
    }


def test_without_the_sandbox_nothing_is_configured(tmp_path):
    values = settings_in_a_fresh_process(tmp_path, VISIONA_SANDBOX="0")
    assert values["CONVERTER_BASE_URL"] == values["MC_SERVICE_ISSUER"] == ""
    assert values["MC_SERVICE_CLIENT_SECRET"] == ""


def test_it_warns_when_on_outside_development(settings):
    settings.VISIONA_SANDBOX, settings.DEBUG = True, False
    [warning] = sandbox_outside_development(None)
    assert warning.id == "sandbox.W001"
    settings.DEBUG = True
    assert sandbox_outside_development(None) == []
    settings.VISIONA_SANDBOX, settings.DEBUG = False, False
    assert sandbox_outside_development(None) == []


def test_run_sandbox_needs_the_sandbox_on(settings):
    settings.VISIONA_SANDBOX = False
    with pytest.raises(CommandError, match="VISIONA_SANDBOX=1"):
        call_command("run_sandbox", "127.0.0.1:0")
