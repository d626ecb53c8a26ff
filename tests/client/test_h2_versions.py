"""visiona_client.h2_internals on the lowest h2 the client allows, not only the pinned one.

The agent is installed on users' machines with whatever h2 pip picks within
client/pyproject.toml's range (Python 3.9 gets h2 4.1): the overrides of h2's
private parts must hold there too. This installs the lowest h2, hyperframe and hpack
of that range into a folder of their own and runs tests/client/test_h2_internals.py
against them in a process of its own (the pinned versions run it in this one).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The lowest of each that client/pyproject.toml's "h2>=4.1,<5" lets pip install.
LOWEST = ["h2==4.1.0", "hyperframe==6.0.0", "hpack==4.0.0"]


def test_the_range_starts_where_this_test_says():
    pyproject = (ROOT / "client" / "pyproject.toml").read_text()
    assert re.search(r'"h2>=4\.1,<5"', pyproject), "update LOWEST to the new floor of h2"


@pytest.fixture(scope="session")
def lowest_h2(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lowest-h2")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            *LOWEST,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if installed.returncode != 0:
        pytest.skip(f"could not install {LOWEST} from the package index: {installed.stderr}")
    return target


def test_the_h2_internals_hold_on_the_lowest_h2(lowest_h2):
    env = {**os.environ, "PYTHONPATH": str(lowest_h2)}
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import h2, hyperframe; print(h2.__version__, hyperframe.__version__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.split() == ["4.1.0", "6.0.0"]
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            str(ROOT / "tests" / "client" / "test_h2_internals.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
