"""Temporary upload files a killed web node leaves behind are swept away.

Django spools a large My models upload to FILE_UPLOAD_TEMP_DIR (in the data folder)
and deletes it when the request ends; a process killed mid-upload does not. The
files nobody has written to for an hour are removed when a process starts and, at
most hourly, as uploads come in (visiona/upload_tmp.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from visiona import upload_tmp

ROOT = Path(__file__).resolve().parent.parent
HOUR = upload_tmp.MAX_IDLE_SECONDS


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.fixture
def upload_dir(settings, tmp_path) -> Path:
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = folder
    return folder


def test_django_spools_uploads_into_our_folder(upload_dir):
    spooled = TemporaryUploadedFile("model.nef", "application/octet-stream", 10, None)
    try:
        assert Path(spooled.temporary_file_path()).parent == upload_dir
    finally:
        spooled.close()


def test_the_sweep_removes_idle_files_only(upload_dir):
    idle, busy, folder = upload_dir / "a.upload.nef", upload_dir / "b.upload.nef", upload_dir / "d"
    idle.write_bytes(b"x")
    busy.write_bytes(b"y")
    folder.mkdir()
    age(idle, HOUR + 60)
    age(busy, HOUR - 60)
    age(folder, HOUR * 2)
    assert upload_tmp.sweep_abandoned() == 1
    assert not idle.exists()
    assert busy.exists() and folder.exists()


def test_the_sweep_follows_no_link(upload_dir, tmp_path):
    outside = tmp_path / "keep.txt"
    outside.write_bytes(b"keep")
    link = upload_dir / "link"
    link.symlink_to(outside)
    age(outside, HOUR * 2)
    upload_tmp.sweep_abandoned()
    assert outside.read_bytes() == b"keep"


def test_a_missing_folder_is_nothing_to_sweep(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "nowhere"
    assert upload_tmp.sweep_abandoned() == 0


def test_uploads_sweep_at_most_once_per_interval(upload_dir, monkeypatch):
    sweeps = []
    monkeypatch.setattr(upload_tmp, "sweep_abandoned", lambda: sweeps.append(1))
    monkeypatch.setattr(upload_tmp, "_last_sweep", 0.0)
    for _ in range(5):
        upload_tmp.sweep_now_and_then()
    assert sweeps == [1]
    monkeypatch.setattr(
        upload_tmp, "_last_sweep", time.monotonic() - upload_tmp.SWEEP_EVERY_SECONDS
    )
    upload_tmp.sweep_now_and_then()
    assert sweeps == [1, 1]


_SPOOLER = """
import time, django
django.setup()
from django.core.files.uploadedfile import TemporaryUploadedFile
spooled = TemporaryUploadedFile("model.nef", "application/octet-stream", 0, None)
spooled.write(b"half of a model")
spooled.flush()
print(spooled.temporary_file_path(), flush=True)
time.sleep(600)
"""

_START = "import visiona.wsgi"


def _child_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VISIONA_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "CRITICAL",
    }


def test_a_node_killed_mid_upload_leaves_a_file_the_next_start_removes(tmp_path):
    data_dir = tmp_path / "data"
    env = _child_env(data_dir)
    node = subprocess.Popen(
        [sys.executable, "-c", _SPOOLER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        spooled = Path(node.stdout.readline().strip())
        assert spooled.parent == data_dir / "upload-tmp"
        node.send_signal(signal.SIGKILL)  # mid-upload: nothing deletes the file
        node.wait(timeout=30)
    finally:
        node.kill()
        node.wait(timeout=30)
        node.stdout.close()
    assert spooled.exists()
    age(spooled, HOUR + 60)  # an hour later nobody wrote to it
    subprocess.run([sys.executable, "-c", _START], cwd=ROOT, env=env, check=True, timeout=120)
    assert not spooled.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/models/", "/api/runs"])
def test_an_upload_makes_the_folder_again_if_it_went_away(alice_client, settings, tmp_path, path):
    # Removed while the app runs (someone cleaning the data folder): the next upload
    # spooled to disk makes it again instead of answering 500.
    folder = tmp_path / "gone" / "upload-tmp"
    settings.FILE_UPLOAD_TEMP_DIR = folder
    large = SimpleUploadedFile(
        "big.nef", b"\0" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1), "application/octet-stream"
    )
    answer = alice_client.post(path, {"file": large, "inputs": large, "name": "big"})
    assert answer.status_code < 500
    assert answer.json()["error"]["code"]  # refused for what it is (not a NEF), in the envelope
    assert folder.is_dir()
