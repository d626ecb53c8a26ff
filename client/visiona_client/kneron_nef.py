"""The target chip of a NEF compiled by Kneron's toolchain, read as Kneron's own runtime
reads it.

Such a NEF is one FlatBuffers buffer, ``NEFContent``, followed by the trailing CRC-32
(``visiona_client.nef.TrailingCrc``). What is read here, and how, follows Kneron PLUS
(kneron/kneron_plus, v2.2.0 and v2.3.0, as vendored in ytl0623/Kneron):
``src/include/local/kneron_nef_reader.h`` (the flatcc-generated reader: field numbers,
types and defaults) and ``src/nef_reader.c`` / ``src/kneron_nef_reader.c``
(``get_NEFHeader``: the target and how its numbering depends on the schema version),
with ``include/kp_struct.h`` (``kp_model_target_chip_t``: the numbering it lands in).

- ``NEFContent``: 0 ``magic`` (uint32, default 19840308), 1 ``header`` (NEFHeader).
- ``NEFHeader``: 1 ``target`` (int32 NPUTarget, default 0), 7 ``schema_version``
  (SchemaVersion; Kneron PLUS refuses a NEF without it as an invalid model).
- ``SchemaVersion``: 0 ``major_num``, 1 ``minor_num``, 2 ``revision_num`` (uint32,
  default 0).

From schema 2.2.1 ``target`` counts from 1 (0 = unknown); before it, from 0 (KL520 = 0),
and Kneron PLUS adds 1. Its test for "2.2.1 or later" is
``major >= 2 && minor >= 2 && revision >= 1``, which a version like 2.3.0 fails though
it is later: for such a version the two readings disagree and no chip is named, rather
than a guess.

The header is written last by FlatBuffers' builder, so it sits near the end of the
file, not at its start: the file is read where the offsets point, a few bytes at a time.
Every offset is checked against the file's size; anything that does not fit is "not a
NEF this module reads", never an exception.
"""

from __future__ import annotations

from typing import BinaryIO

NEF_CONTENT_MAGIC = 19840308

# kp_model_target_chip_t (kp_struct.h): the numbering from schema 2.2.1 on.
TARGET_CHIPS = {
    1: "KL520",
    2: "KL720",
    3: "KL530",
    4: "KL730",
    5: "KL630",
    6: "KL540",
}

_CONTENT_MAGIC, _CONTENT_HEADER = 0, 1
_HEADER_TARGET, _HEADER_SCHEMA_VERSION = 1, 7
_FIRST_SCHEMA_COUNTING_FROM_ONE = (2, 2, 1)


class _NotKneronNef(Exception):
    pass


class _Buffer:
    """Reads a FlatBuffers buffer in place, by offset, from a seekable file."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file = file
        self._size = size

    def _read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > self._size:
            raise _NotKneronNef()
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise _NotKneronNef()
        return data

    def uint16(self, offset: int) -> int:
        return int.from_bytes(self._read(offset, 2), "little")

    def uint32(self, offset: int) -> int:
        return int.from_bytes(self._read(offset, 4), "little")

    def int32(self, offset: int) -> int:
        return int.from_bytes(self._read(offset, 4), "little", signed=True)

    def root(self) -> int:
        return self.uint32(0)

    def field(self, table: int, number: int) -> int | None:
        """Where field ``number`` of the table at ``table`` is, or None if it is absent
        (a reader then takes its default)."""
        vtable = table - self.int32(table)
        vtable_size = self.uint16(vtable)
        if vtable_size < 4 or vtable_size % 2:
            raise _NotKneronNef()
        slot = 4 + 2 * number
        if slot + 2 > vtable_size:
            return None
        offset = self.uint16(vtable + slot)
        return table + offset if offset else None

    def scalar(self, table: int, number: int, *, signed: bool = False, default: int = 0) -> int:
        position = self.field(table, number)
        if position is None:
            return default
        return self.int32(position) if signed else self.uint32(position)

    def table(self, table: int, number: int) -> int | None:
        position = self.field(table, number)
        return None if position is None else position + self.uint32(position)


def target_chip(file: BinaryIO) -> str | None:
    """The chip ("KL720") a Kneron-compiled NEF names in its header, or None when the
    file is not one or the header does not say unambiguously. ``file`` is seekable and
    binary; where it is left is undefined."""
    file.seek(0, 2)
    buffer = _Buffer(file, file.tell())
    try:
        return _read_target(buffer)
    except _NotKneronNef:
        return None


def _read_target(buffer: _Buffer) -> str | None:
    content = buffer.root()
    magic = buffer.scalar(content, _CONTENT_MAGIC, default=NEF_CONTENT_MAGIC)
    if magic != NEF_CONTENT_MAGIC:
        return None
    header = buffer.table(content, _CONTENT_HEADER)
    if header is None:
        return None
    schema = buffer.table(header, _HEADER_SCHEMA_VERSION)
    if schema is None:
        return None
    version = (buffer.scalar(schema, 0), buffer.scalar(schema, 1), buffer.scalar(schema, 2))
    major, minor, revision = version
    counts_from_one = major >= 2 and minor >= 2 and revision >= 1  # Kneron PLUS's test
    if counts_from_one != (version >= _FIRST_SCHEMA_COUNTING_FROM_ONE):
        return None
    target = buffer.scalar(header, _HEADER_TARGET, signed=True)
    return TARGET_CHIPS.get(target if counts_from_one else target + 1)
