"""What visionA reads of a NEF: its integrity check (the last 4 bytes are the CRC-32
of everything before them) and, where its header names one, the chip it was compiled for.

The trailing CRC-32 is the check Kneron's own runtime makes before it loads a NEF
(kneron/kneron_plus ``src/nef_reader.c``, ``read_nef_content_table``: the CRC-32 of all
but the last 4 bytes against those 4 read as a native, little-endian uint32).

The CRC's byte order is taken either way: visionA's converter stand-in writes it
big-endian, and a reader written in C on a little-endian machine may read (and a writer
may write) it as a native uint32. Accepting both costs one chance in 2^31 of missing
damage, and a real NEF never fails for its byte order.

One implementation for both ends: the agent verifies a download with it before it
installs a model (``models_folder.verify``), and visionA checks an upload to My models
with it as the bytes stream through (``models_repo.nef``).
"""

from __future__ import annotations

import json
import zlib
from typing import BinaryIO

from visiona_client import kneron_nef

CRC_BYTES = 4


class TrailingCrc:
    """Fed a file's bytes in order; ``matches()`` once all of them went in.
    Holds only the last 4 bytes, never a copy of a chunk."""

    def __init__(self) -> None:
        self._crc = 0
        self._tail = b""  # the last bytes seen, not in the CRC yet (at most 4)

    def feed(self, chunk: bytes) -> None:
        if len(chunk) >= CRC_BYTES:
            # The held bytes are not the file's last 4 any more.
            self._crc = zlib.crc32(self._tail, self._crc)
            self._crc = zlib.crc32(memoryview(chunk)[:-CRC_BYTES], self._crc)
            self._tail = bytes(chunk[-CRC_BYTES:])
            return
        joined = self._tail + bytes(chunk)
        cut = max(len(joined) - CRC_BYTES, 0)
        self._crc = zlib.crc32(joined[:cut], self._crc)
        self._tail = joined[cut:]

    def matches(self) -> bool:
        """False too for a file shorter than the 4 bytes of its CRC."""
        if len(self._tail) != CRC_BYTES:
            return False
        return self._crc in (
            int.from_bytes(self._tail, "big"),
            int.from_bytes(self._tail, "little"),
        )


# visionA's sandbox converter writes a stand-in for a NEF: this line, then one JSON line
# whose "platform" is the chip's number ("720"). Kneron's own compiled NEFs name their
# chip in a FlatBuffers header (``visiona_client.kneron_nef``).
SANDBOX_MAGIC = b"VISIONA-SANDBOX-NEF\n"
HEADER_BYTES = 4096  # enough for the stand-in's header line


def chip_in_nef(file: BinaryIO) -> str | None:
    """The chip ("KL720") a NEF's header names: the sandbox stand-in's, or a Kneron
    NEF's ``NEFHeader.target``. None when the file is neither or names no chip.
    ``file`` is seekable and binary, and is left at its start."""
    try:
        file.seek(0)
        start = file.read(HEADER_BYTES)
        if start.startswith(SANDBOX_MAGIC):
            return _sandbox_chip(start)
        return kneron_nef.target_chip(file)
    finally:
        file.seek(0)


def _sandbox_chip(start: bytes) -> str | None:
    line = start[len(SANDBOX_MAGIC) :].split(b"\n", 1)[0]
    try:
        platform = json.loads(line).get("platform")
    except (ValueError, AttributeError):
        return None
    if not isinstance(platform, str) or not platform.isdigit():
        return None
    return f"KL{platform}"
