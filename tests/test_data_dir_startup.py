"""Processes that start side by side on one data folder (gunicorn's workers, the
relay, a management command) all pass the folder's write check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports the settings (one check), then checks the folder 300 times more, as fast as
# it can, while the other processes do the same.
CHECKS = """
import sys
import visiona.settings.core as settings
for _ in range(300):
    settings._data_dir()
print("ok")
"""


def test_processes_checking_one_folder_at_once_do_not_trip_each_other(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DEBUG": "1",
        "VISIONA_DATA_DIR": str(tmp_path / "data"),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-1500:]
        assert out.strip() == "ok"
    assert not list((tmp_path / "data").glob(".write-check*"))  # no probe left behind
