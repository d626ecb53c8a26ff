"""A user's file name cut to fit where it goes: a stored file's name (most file
systems refuse a name over 255 bytes, ENAMETOOLONG, and a CJK character is three
bytes in UTF-8) or a database column (counted in characters).

Cut from the end of the stem, so the name stays readable and keeps its extension,
and never inside a character.
"""

from __future__ import annotations

from pathlib import PurePosixPath

# An extension longer than this is not one ("a.<300 letters>"): the whole name is cut.
_EXTENSION_MAX_CHARS = 16


def shorten_file_name(
    name: str, *, max_bytes: int | None = None, max_chars: int | None = None
) -> str:
    """``name`` if it fits within ``max_bytes`` (UTF-8) and ``max_chars``, else its
    stem cut short with the extension kept (``long…long.onnx`` -> ``long.onnx``)."""
    if _fits(name, max_bytes=max_bytes, max_chars=max_chars):
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix) > _EXTENSION_MAX_CHARS:
        suffix = ""
    stem = name[: len(name) - len(suffix)]
    if max_chars is not None:
        stem = stem[: max(max_chars - len(suffix), 0)]
    if max_bytes is not None:
        room = max(max_bytes - len(_utf8(suffix)), 0)
        # A character cut in two at the end is dropped whole ("ignore" drops only that).
        stem = _utf8(stem)[:room].decode(errors="ignore")
    return f"{stem}{suffix}"


def _fits(name: str, *, max_bytes: int | None, max_chars: int | None) -> bool:
    if max_chars is not None and len(name) > max_chars:
        return False
    return max_bytes is None or len(_utf8(name)) <= max_bytes


def _utf8(text: str) -> bytes:
    # A lone surrogate (an undecodable byte in a header) counts, and is never an error.
    return text.encode("utf-8", "surrogatepass")
