"""The relay's settings: the internal secret is strong in production, generated in development."""

from __future__ import annotations

from tests.test_deployment import PRODUCTION_ENV, run_manage


def test_a_weak_relay_secret_stops_a_production_process():
    result = run_manage("check", **{**PRODUCTION_ENV, "RELAY_INTERNAL_SECRET": "short"})
    assert result.returncode != 0
    assert "RELAY_INTERNAL_SECRET must be a random value of 50+ characters" in result.stderr


def test_development_generates_one_secret_and_keeps_it(tmp_path):
    env = {"DEBUG": "1", "VISIONA_DATA_DIR": str(tmp_path)}
    code = "from django.conf import settings; print(settings.RELAY_INTERNAL_SECRET)"
    first = run_manage("shell", "-c", code, **env)
    second = run_manage("shell", "-c", code, **env)
    assert first.returncode == 0, first.stderr
    secret = first.stdout.strip()
    assert len(secret) >= 50
    assert second.stdout.strip() == secret
    assert (tmp_path / "relay_secret").stat().st_mode & 0o077 == 0
