"""The API's body parsers: DRF's, with every unreadable body a 400.

JSON is refused when it cannot be read back as UTF-8: a ``\\ud800`` escape decodes to
a lone surrogate, a Python string that no database, log line or JSON answer can
encode (it would fail later, as a 500, wherever it went). So is a number that is
not finite (``NaN``, ``Infinity``, or ``1e999``, which Python reads as infinity): no
JSON answer can hold it and PostgreSQL's ``jsonb`` refuses it. ``loads`` is the one
reader for JSON from outside (agents, devices, users); the parser uses its checks.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rest_framework import exceptions, parsers

# A surrogate can only come from a \\u escape: raw UTF-8 cannot hold one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class LoneSurrogate(ValueError):
    """The JSON held a \\uD800-\\uDFFF escape that is not half of a valid pair."""


class NotFinite(ValueError):
    """The JSON held NaN, Infinity, or a number too large for a float."""


def _refuse_constant(name: str) -> float:
    raise NotFinite(f"JSON parse error - {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotFinite("JSON parse error - a number out of range")
    return value


def _check_value(value: object) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LoneSurrogate("JSON parse error - a lone surrogate in a string") from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NotFinite("JSON parse error - a number out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key)
            _check_value(item)
    elif isinstance(value, list):
        for item in value:
            _check_value(item)


def check_encodable(value: object, raw: bytes | str) -> None:
    """Raise LoneSurrogate if ``value`` (parsed from ``raw``) holds a lone surrogate."""
    needle = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    if _SURROGATE_ESCAPE.search(needle):  # the walk only when an escape is there
        _check_value(value)


def loads(raw: bytes | str) -> Any:
    """``json.loads``, but ValueError (LoneSurrogate, NotFinite) for text that is not
    valid Unicode, for numbers that are not finite, and for JSON nested deeper than
    Python's recursion limit (RecursionError would otherwise escape as a 500)."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON parse error - nested too deeply") from None
    check_encodable(value, raw)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser catches ValueError only: JSON nested deeper than Python's
    recursion limit raises RecursionError, which would escape as a 500. And a lone
    surrogate, or a number that is not finite, is refused here, once, instead of
    wherever the value would go (DRF's strict mode refuses only the NaN/Infinity
    literals, not ``1e999``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            value = super().parse(stream, media_type, parser_context)
            # Walked whole: a body in another charset hides its escapes from a scan.
            _check_value(value)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None
        except (LoneSurrogate, NotFinite) as exc:
            raise exceptions.ParseError(str(exc)) from None
        return value
