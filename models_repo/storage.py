"""Model files in ``storages["models"]``: written in chunks, hashed on the way.

The "models" storage is a local folder by default and any S3-compatible bucket
by configuration (see STORAGES in visiona/settings/web.py).
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.text import get_valid_filename

from visiona.file_names import shorten_file_name

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024


class ModelsStorage(LazyObject):
    """``storages["models"]``, looked up on first use rather than at import."""

    _wrapped: object  # the backend, or ``empty`` until first use

    def _setup(self) -> None:
        self._wrapped = storages["models"]


_lazy_models_storage = ModelsStorage()
# The proxy forwards every attribute to the backend it wraps, a Storage: the stubs
# cannot say so of a LazyObject.
models_storage = cast(Storage, _lazy_models_storage)


def get_models_storage() -> Storage:
    """The FileField's storage (a callable keeps the backend out of migrations)."""
    return models_storage


@receiver(setting_changed)
def _forget_models_storage(*, setting: str, **kwargs: object) -> None:
    # Tests point STORAGES at a temporary folder; look the backend up again then.
    if setting == "STORAGES":
        _lazy_models_storage._wrapped = empty


class HashingReader(io.RawIOBase):
    """A read-only file over an iterator of chunks that counts and hashes what
    passes through, so storage can pull a stream without holding it whole."""

    def __init__(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self._max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._pending:
            try:
                self._pending = bytes(next(self._chunks))
            except StopIteration:
                return 0
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending))
        data, self._pending = self._pending[:count], self._pending[count:]
        view[:count] = data
        self.size += count
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise FileTooLarge(self._max_bytes)
        self._hash.update(data)
        return count


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"file exceeds {limit} bytes")
        self.limit = limit


# A stored file's own name, in UTF-8 bytes: file systems refuse past 255 (ENAMETOOLONG),
# and the storage may add "_<7 characters>" to a name already taken.
STORED_NAME_MAX_BYTES = 200


def model_file_name(*, owner_id: int, filename: str, default: str = "model.nef") -> str:
    """A fresh folder per file keeps the user's file name and makes the stored
    name ours, not the storage's, so a failed write can be cleaned up exactly.

    Every file stored under a name a user gave is named here: the name is made
    safe and cut to STORED_NAME_MAX_BYTES (its extension kept); ``default`` when
    nothing of it is left."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    try:
        safe = shorten_file_name(get_valid_filename(base), max_bytes=STORED_NAME_MAX_BYTES)
    except SuspiciousFileOperation:  # nothing usable in it ("", "..", "!!!")
        safe = ""
    if safe in {"", ".", ".."}:
        safe = default
    return f"{owner_id}/{uuid.uuid4().hex}/{safe}"


def store_stream(
    name: str, chunks: Iterable[bytes], *, max_bytes: int | None = None
) -> tuple[str, int, str]:
    """Save ``chunks`` under ``name`` in the models storage, in chunks.

    Returns (stored name, size, sha256). On any error nothing is left behind.
    """
    reader = HashingReader(chunks, max_bytes=max_bytes)
    try:
        stored_name = models_storage.save(name, File(io.BufferedReader(reader, CHUNK), name))
    except BaseException:
        # The storage may have written part of the file before the stream failed.
        delete_stored_file(name)
        raise
    return stored_name, reader.size, reader.sha256


def delete_stored_file(name: str) -> None:
    """Best effort: called while another error is on its way up, never masks it."""
    try:
        if models_storage.exists(name):
            models_storage.delete(name)
    except Exception:  # an S3 store raises botocore errors, not OSError
        logger.warning("could not remove a stored model file", extra={"file": name}, exc_info=True)


def open_stored_file(name: str) -> File[bytes]:
    """The stored file opened for reading, for a streamed download."""
    return models_storage.open(name, "rb")
