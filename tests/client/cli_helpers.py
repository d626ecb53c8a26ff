"""Running ``visiona`` against the live server: in this process (so a test can hand
``convert`` a pre-flight checker that records its calls), or as its own process like a
user's shell."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from visiona_client import preflight

from tests.client.conftest import CLIENT_DIR


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
