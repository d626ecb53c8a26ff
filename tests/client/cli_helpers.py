"""Running ``visiona`` against the live server: in this process (so a test can hand
``convert`` a fake pre-flight checker), or as its own process like a user's shell."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.client.conftest import CLIENT_DIR


@dataclass
class Ran:
    code: int
    out: str
    err: str
    data: dict = field(default_factory=dict)


class FakeReport:
    def __init__(self, blockers=(), warnings=()) -> None:
        self.blockers = list(blockers)
        self.warnings = list(warnings)

    @property
    def ok(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict:
        def finding(f):
            return {"code": f.code, "message": f.message, "details": f.details}

        return {
            "chip": "KL720",
            "blockers": [finding(f) for f in self.blockers],
            "warnings": [finding(f) for f in self.warnings],
            "summary": {},
        }


@dataclass
class FakeFinding:
    code: str
    message: str
    details: dict = field(default_factory=dict)


class FakeChecker:
    """Stands in for visiona_client.preflight (scan_file + check) and records calls."""

    def __init__(self, report: FakeReport | None = None) -> None:
        self.report = report or FakeReport()
        self.calls: list[tuple[Path, str]] = []

    def __call__(self, path: Path, chip: str) -> FakeReport:
        self.calls.append((path, chip))
        return self.report


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
