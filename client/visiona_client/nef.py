"""What visionA reads of a NEF: its integrity check (the last 4 bytes are the CRC-32
of everything before them) and, where its header names one, the chip it was compiled for.

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


# The one NEF header layout visionA knows how to read is its sandbox converter's
# stand-in: this line, then one JSON line whose "platform" is the chip's number
# ("720"). Kneron's own compiled NEFs keep their target chip in a FlatBuffers header
# (NEFHeader.target) whose schema visionA does not carry: for them no chip is read.
SANDBOX_MAGIC = b"VISIONA-SANDBOX-NEF\n"
HEADER_BYTES = 4096  # enough for the stand-in's header line


def chip_in_header(start: bytes) -> str | None:
    """The chip ("KL720") a NEF's header names, from its first ``HEADER_BYTES``;
    None when the header is not one visionA reads or names no chip."""
    if not start.startswith(SANDBOX_MAGIC):
        return None
    line = start[len(SANDBOX_MAGIC) :].split(b"\n", 1)[0]
    try:
        platform = json.loads(line).get("platform")
    except (ValueError, AttributeError):
        return None
    if not isinstance(platform, str) or not platform.isdigit():
        return None
    return f"KL{platform}"
