"""The folder where Django spools large uploads (My models' files), and its sweep.

Django writes an uploaded file past FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file
and deletes it when the request ends. A web node killed mid-upload (out of memory,
a deploy, a crash) deletes nothing, so the file would stay for ever. It goes to a
folder of ours (FILE_UPLOAD_TEMP_DIR, in the data folder, not /tmp), and files there
that nobody has written to for ``MAX_IDLE_SECONDS`` are removed: when a process
starts (visiona/wsgi.py) and then at most once per ``SWEEP_EVERY_SECONDS`` as uploads
come in. An upload in progress writes as its bytes arrive, so it is never that idle.

The folder is made at start-up; ``TemporaryFileHandler`` makes it again if it went
away meanwhile (an operator cleaning the data folder), so an upload never fails on it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

logger = logging.getLogger(__name__)

MAX_IDLE_SECONDS = 3600
SWEEP_EVERY_SECONDS = 3600

_last_sweep = 0.0
_lock = threading.Lock()


class TemporaryFileHandler(TemporaryFileUploadHandler):
    """Django's handler, with FILE_UPLOAD_TEMP_DIR made if it is missing."""

    def new_file(self, *args, **kwargs) -> None:
        Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
        super().new_file(*args, **kwargs)


def sweep_abandoned(*, now: float | None = None) -> int:
    """Remove the temporary upload files idle for MAX_IDLE_SECONDS; how many went."""
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    cutoff = (time.time() if now is None else now) - MAX_IDLE_SECONDS
    removed = 0
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return 0
    for path in entries:
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # gone meanwhile (its request ended), or not ours to remove
    if removed:
        logger.info("abandoned upload files removed", extra={"files": removed})
    return removed


def sweep_now_and_then() -> None:
    """Sweep if this process has not for SWEEP_EVERY_SECONDS (cheap otherwise)."""
    global _last_sweep
    now = time.monotonic()
    if _last_sweep and now - _last_sweep < SWEEP_EVERY_SECONDS:
        return
    with _lock:
        if _last_sweep and now - _last_sweep < SWEEP_EVERY_SECONDS:
            return
        _last_sweep = now
    sweep_abandoned()
