"""The sandbox's state, in files under ``settings.SANDBOX_DIR``.

Files, not memory, so a second process or thread (runserver, gunicorn, the
end-to-end test servers) sees the same jobs and objects. Every JSON document is
replaced atomically; locks are ``flock`` on lock files, released by the kernel
even when a process dies.

    jobs/<job_id>/job.json      the job record (see sandbox.jobs)
    jobs/<job_id>/files/        what the upload carried
    jobs/<job_id>/quantized.*   the int8 model its NEF carries (sandbox.quantize)
    uploads/<id>/               an upload being received
    objects/<sha256 of key>     the File Access Agent's objects, with .json metadata
    locks/                      per-user and upload-slot lock files
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def root() -> Path:
    path = Path(settings.SANDBOX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _folder(name: str) -> Path:
    path = root() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: dict) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(data, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


# --- Locks ------------------------------------------------------------------


@contextmanager
def _named_lock(kind: str, key: str) -> Iterator[None]:
    name = hashlib.sha256(key.encode()).hexdigest()[:32]
    with open(_folder("locks") / f"{kind}-{name}.lock", "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def user_lock(user_id: str):
    """Serialises "does the user have an unfinished job? if not, create one"."""
    return _named_lock("user", user_id)


def job_lock(job_id: str):
    """Serialises making a job's quantized model: two promotes quantize it once."""
    return _named_lock("job", job_id)


@contextmanager
def upload_slot(slots: int) -> Iterator[bool]:
    """Holds one of ``slots`` upload slots; yields False when all are taken.

    A slot is a lock file taken without waiting, so uploads count across
    threads and processes, and a crashed upload frees its slot.
    """
    for number in range(slots):
        file = open(_folder("locks") / f"upload-slot-{number}.lock", "a")  # noqa: SIM115
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            continue
        try:
            yield True
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
            file.close()
        return
    yield False


# --- Jobs -------------------------------------------------------------------


def _job_folder(job_id: str) -> Path | None:
    try:
        canonical = str(uuid.UUID(job_id))
    except ValueError:
        return None  # never a path: ids come from URLs
    return _folder("jobs") / canonical if canonical == job_id.lower() else None


def new_upload_folder() -> Path:
    path = _folder("uploads") / uuid.uuid4().hex
    path.mkdir()
    return path


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def create_job(job: dict, upload_folder: Path) -> None:
    folder = _folder("jobs") / job["job_id"]
    folder.mkdir()
    os.replace(upload_folder, folder / "files")
    write_json(folder / "job.json", job)


def save_job(job: dict) -> None:
    write_json(_folder("jobs") / job["job_id"] / "job.json", job)


def load_job(job_id: str) -> dict | None:
    folder = _job_folder(job_id)
    return _read_json(folder / "job.json") if folder else None


def job_file(job_id: str, name: str) -> Path:
    return _folder("jobs") / job_id / "files" / name


def job_files(job_id: str) -> list[Path]:
    """Every file the job's upload carried, in name order."""
    folder = _folder("jobs") / job_id / "files"
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def job_path(job_id: str, name: str) -> Path:
    """A file of the sandbox's own beside the job's record (e.g. its quantized model)."""
    return _folder("jobs") / job_id / name


def all_jobs() -> Iterator[dict]:
    for path in _folder("jobs").glob("*/job.json"):
        job = _read_json(path)
        if job:
            yield job


# --- File Access Agent objects ---------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    etag: str
    path: Path


def _object_path(key: str) -> Path:
    # Named by a hash of the key: no key, however odd, becomes a path of its own.
    return _folder("objects") / hashlib.sha256(key.encode()).hexdigest()


def put_object(key: str, chunks: Iterable[bytes]) -> StoredObject:
    path = _object_path(key)
    digest = hashlib.sha256()
    size = 0
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    etag = f'"{digest.hexdigest()}"'
    write_json(path.with_suffix(".json"), {"key": key, "size_bytes": size, "etag": etag})
    return StoredObject(key, size, etag, path)


def get_object(key: str) -> StoredObject | None:
    path = _object_path(key)
    meta = _read_json(path.with_suffix(".json"))
    if not meta or meta["key"] != key or not path.exists():
        return None
    return StoredObject(key, meta["size_bytes"], meta["etag"], path)


def is_valid_object_key(key: object) -> bool:
    """Path-like and tame: ``tenants/T/users/U/models/x.nef``, no ``..`` nor a leading ``/``."""
    if not isinstance(key, str) or not 0 < len(key) <= 1024:
        return False
    if "\\" in key or any(ord(char) < 32 or ord(char) == 127 for char in key):
        return False
    return all(segment not in {"", ".", ".."} for segment in key.split("/"))
