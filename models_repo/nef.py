"""What visionA checks of a NEF before keeping it: its trailing CRC-32.

A NEF ends with the big-endian CRC-32 of everything before those 4 bytes; the agent
checks the same before it installs a model (``visiona_client.models_folder``). A file
cut short or damaged on its way fails it, and is better refused at upload, with a
message, than found out on a device at deploy time (``crc_mismatch``). Checked while the
upload streams through, holding only the last 4 bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext_lazy as _

from models_repo.errors import invalid_field

CRC_BYTES = 4


class TrailingCrc:
    """Fed a file's bytes in order; ``matches()`` once all of them went in."""

    def __init__(self) -> None:
        self._crc = 0
        self._tail = b""  # the last bytes seen, not in the CRC yet (at most 4)

    def feed(self, chunk: bytes) -> None:
        if len(chunk) >= CRC_BYTES:
            # The held bytes are not the file's last 4 any more; no copy of the chunk.
            self._crc = zlib.crc32(self._tail, self._crc)
            self._crc = zlib.crc32(memoryview(chunk)[:-CRC_BYTES], self._crc)
            self._tail = bytes(chunk[-CRC_BYTES:])
            return
        joined = self._tail + bytes(chunk)
        cut = max(len(joined) - CRC_BYTES, 0)
        self._crc = zlib.crc32(joined[:cut], self._crc)
        self._tail = joined[cut:]

    def matches(self) -> bool:
        return len(self._tail) == CRC_BYTES and int.from_bytes(self._tail, "big") == self._crc


def checked_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` passed on as they come; after the last, a NEF whose CRC-32 does not
    match raises a validation error on the ``file`` field (the storage then removes
    what it wrote)."""
    check = TrailingCrc()
    for chunk in chunks:
        check.feed(chunk)
        yield chunk
    if not check.matches():
        raise invalid_field(
            "file",
            _(
                "This is not a complete NEF file: its checksum does not match, so it was "
                "cut short or damaged. Compile or download it again."
            ),
        )
