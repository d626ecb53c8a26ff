"""NEF files laid out as Kneron's toolchain writes them, for the tests of what visionA
reads of them (visiona_client.kneron_nef, which cites the layout's sources).

A FlatBuffers buffer: the root offset, then, like the toolchain's files, the model's
bytes, then the ``NEFContent`` table with its ``NEFHeader`` and ``SchemaVersion``
(FlatBuffers' builder writes the header last, so it ends up near the end), then the
trailing CRC-32 of everything before it, a native little-endian uint32.
"""

from __future__ import annotations

import struct
import zlib

Field = tuple[str, int]  # ("uint32" | "int32" | "table", value or the table's position)


def _vtable_bytes(count: int) -> int:
    size = 4 + 2 * count
    return size + (-size) % 4  # the table after it starts 4-aligned


def _table_position(start: int, count: int) -> int:
    return start + _vtable_bytes(count)


def _table_size(count: int, fields: dict[int, Field]) -> int:
    return _vtable_bytes(count) + 4 + 4 * len(fields)


def _encode_table(start: int, count: int, fields: dict[int, Field]) -> bytes:
    """A vtable at ``start`` for ``count`` fields, then its table with ``fields`` (by
    field number); each field takes 4 bytes, in field order."""
    table = _table_position(start, count)
    slots = [0] * count
    values = b""
    for number in sorted(fields):
        kind, value = fields[number]
        slots[number] = 4 + len(values)
        position = table + slots[number]
        if kind == "table":
            values += struct.pack("<I", value - position)  # forward, as FlatBuffers wants
        else:
            values += struct.pack("<i" if kind == "int32" else "<I", value)
    vtable = struct.pack(f"<HH{count}H", 4 + 2 * count, 4 + len(values), *slots)
    vtable += b"\0" * (_vtable_bytes(count) - len(vtable))
    return vtable + struct.pack("<i", table - start) + values


def kneron_nef(
    *,
    target: int | None,
    schema: tuple[int | None, int | None, int | None] | None = (2, 2, 1),
    magic: int | None = None,
    body: bytes = b"\x5a" * 64,
    with_header: bool = True,
) -> bytes:
    """A NEF whose ``NEFHeader.target`` is ``target`` (None: the field is absent, so
    its default 0), with ``SchemaVersion`` ``schema`` (None: no such table; a None part
    is absent), and ``NEFContent.magic`` only when ``magic`` is given."""
    body = body + b"\0" * ((-len(body)) % 4)
    content_at = 4 + len(body)
    content_fields: dict[int, Field] = {} if magic is None else {0: ("uint32", magic)}
    header_fields: dict[int, Field] = {}
    if target is not None:
        header_fields[1] = ("int32", target)
    schema_fields: dict[int, Field] = {}
    if schema is not None:
        schema_fields = {
            number: ("uint32", part) for number, part in enumerate(schema) if part is not None
        }
    # Sizes first (each field is 4 bytes), so every table's position is known.
    header_at = content_at + _table_size(4, {**content_fields, 1: ("table", 0)})
    if with_header:
        content_fields[1] = ("table", _table_position(header_at, 11))
    if schema is not None:
        header_fields[7] = ("table", 0)
        schema_at = header_at + _table_size(11, header_fields)
        header_fields[7] = ("table", _table_position(schema_at, 3))
    data = struct.pack("<I", _table_position(content_at, 4)) + body
    data += _encode_table(content_at, 4, content_fields)
    if with_header:
        data += _encode_table(header_at, 11, header_fields)
        if schema is not None:
            data += _encode_table(schema_at, 3, schema_fields)
    return data + struct.pack("<I", zlib.crc32(data))
