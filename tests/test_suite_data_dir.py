"""Each test process has a data folder of its own (tests/settings.py): under pytest-xdist
a worker that finishes removes its folder, and must never remove another's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def data_dir_of(tmp_path: Path, **env: str) -> str:
    """DATA_DIR as tests/settings.py decides it in a fresh process with ``env``."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VISIONA_DATA_DIR", "VISIONA_TESTS_DATA_DIR_OF", "PYTEST_XDIST_WORKER")
    }
    environment.update(env, TMPDIR=str(tmp_path))
    code = "import json, tests.settings as s; print(json.dumps(str(s.DATA_DIR)))"
    printed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(printed.splitlines()[-1])


@pytest.mark.parametrize("worker", ["gw0", "gw1"])
def test_a_worker_makes_its_own_folder_not_the_controllers(tmp_path, worker):
    controllers = str(tmp_path / "visiona-tests-controller")
    mine = data_dir_of(
        tmp_path,
        VISIONA_DATA_DIR=controllers,
        VISIONA_TESTS_DATA_DIR_OF="",
        PYTEST_XDIST_WORKER=worker,
    )
    assert mine != controllers
    assert Path(mine).parent == tmp_path and Path(mine).name.startswith("visiona-tests-")


def test_a_server_a_worker_starts_shares_the_workers_folder(tmp_path):
    workers = str(tmp_path / "visiona-tests-gw0")
    assert (
        data_dir_of(
            tmp_path,
            VISIONA_DATA_DIR=workers,
            VISIONA_TESTS_DATA_DIR_OF="gw0",
            PYTEST_XDIST_WORKER="gw0",
        )
        == workers
    )


def test_a_folder_someone_chose_is_kept(tmp_path):
    chosen = str(tmp_path / "mine")
    assert data_dir_of(tmp_path, VISIONA_DATA_DIR=chosen, PYTEST_XDIST_WORKER="gw1") == chosen


@pytest.mark.parametrize(("made_here", "kept"), [(True, False), (False, True)])
def test_only_the_process_that_made_the_folder_removes_it(
    tmp_path, monkeypatch, settings, made_here, kept
):
    from tests.conftest import pytest_sessionfinish

    folder = tmp_path / "visiona-tests-x"
    (folder / "upload-tmp").mkdir(parents=True)
    settings.DATA_DIR = folder
    # A pytest run in a subprocess of a worker inherits the worker's folder and maker.
    maker = os.getpid() if made_here else os.getppid()
    monkeypatch.setenv("VISIONA_TESTS_DATA_DIR_MADE_BY", str(maker))
    pytest_sessionfinish(None, 0)
    assert folder.exists() is kept
