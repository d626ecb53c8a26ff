"""Writing model files to storage in chunks, hashing them on the way."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

CHUNK = 1024 * 1024


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

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = bytes(next(self._chunks))
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._pending))
        data, self._pending = self._pending[:count], self._pending[count:]
        buffer[:count] = data
        self.size += count
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise FileTooLarge(self._max_bytes)
        self._hash.update(data)
        return count


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"file exceeds {limit} bytes")
        self.limit = limit


def model_file_name(*, owner_id: int, filename: str) -> str:
    """A fresh folder per file keeps the user's file name and makes the stored
    name ours, not the storage's, so a failed write can be cleaned up exactly."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    return f"models/{owner_id}/{uuid.uuid4().hex}/{get_valid_filename(base) or 'model.nef'}"


def store_stream(
    name: str, chunks: Iterable[bytes], *, max_bytes: int | None = None
) -> tuple[str, int, str]:
    """Save ``chunks`` under ``name`` in the default storage, in chunks.

    Returns (stored name, size, sha256). On any error nothing is left behind.
    """
    reader = HashingReader(chunks, max_bytes=max_bytes)
    try:
        stored_name = default_storage.save(name, File(io.BufferedReader(reader, CHUNK), name))
    except BaseException:
        # The storage may have written part of the file before the stream failed.
        delete_stored_file(name)
        raise
    return stored_name, reader.size, reader.sha256


def delete_stored_file(name: str) -> None:
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
    except OSError:
        pass
