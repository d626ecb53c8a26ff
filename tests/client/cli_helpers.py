"""Running ``visiona`` against the live server: in this process (so a test can hand
``convert`` a pre-flight checker that records its calls), or as its own process like a
user's shell; and the fixtures that point it at the fake visionA instead
(tests/client/fake_visiona_runs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from visiona_client import preflight

from tests.client.conftest import CLIENT_DIR
from tests.client.fake_visiona_runs import USER_TOKEN


@dataclass
class Ran:
    code: int
    out: str
    err: str
    data: dict = field(default_factory=dict)


class RecordingChecker:
    """The real pre-flight (``visiona_client.preflight``: scan_file + check), recording
    each call, so a test sees that ``convert`` ran it and on what."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, str]] = []
        self.reports: list[preflight.Report] = []

    def __call__(self, path: Path, chip: str) -> preflight.Report:
        self.calls.append((path, chip))
        report = preflight.check(preflight.scan_file(path), chip)
        self.reports.append(report)
        return report


# The server the CLI tests with answers from ``responses`` talk to.
SERVER = "https://visiona.example"


def point_cli_at(monkeypatch, config_dir: Path, server: str = SERVER) -> None:
    """The CLI's configuration folder, and its server and token from the environment (as
    in CI, nothing stored)."""
    monkeypatch.setenv("VISIONA_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("VISIONA_SERVER", server)
    monkeypatch.setenv("VISIONA_TOKEN", "vap_test")


@pytest.fixture
def visiona(fake_visiona, monkeypatch, tmp_path):
    """``visiona`` in this process pointed at the fake visionA, as the user whose token
    the fake knows, with a config folder of the test's own."""
    monkeypatch.setenv("VISIONA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VISIONA_SERVER", fake_visiona.url)
    monkeypatch.setenv("VISIONA_TOKEN", USER_TOKEN)
    monkeypatch.setenv("NO_PROXY", "*")  # the fake is on loopback
    return fake_visiona


@pytest.fixture
def inputs(tmp_path):
    """A folder of two inputs for a run (the fake decodes none of them)."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n not decoded by the fake")
    return folder


def run_process(*arguments: str, env: dict[str, str], cwd: Path) -> Ran:
    result = subprocess.run(
        [sys.executable, "-m", "visiona_client.visiona_cli", *arguments],
        env={**env, "PYTHONPATH": str(CLIENT_DIR)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return _ran(result.returncode, result.stdout, result.stderr)


def _ran(code: int, out: str, err: str) -> Ran:
    data = {}
    if out.strip().startswith("{"):
        data = json.loads(out)
    return Ran(code, out, err, data)
