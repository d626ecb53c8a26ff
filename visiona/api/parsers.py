"""The API's body parsers: DRF's, with every unreadable body a 400.

JSON is refused when it cannot be read back as UTF-8: a ``\\ud800`` escape decodes to
a lone surrogate, a Python string that no database, log line or JSON answer can
encode (it would fail later, as a 500, wherever it went). ``loads`` is the one
reader for JSON from outside (agents, devices, users); the parser uses its check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework import exceptions, parsers

# A surrogate can only come from a \\u escape: raw UTF-8 cannot hold one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class LoneSurrogate(ValueError):
    """The JSON held a \\uD800-\\uDFFF escape that is not half of a valid pair."""


def _check_text(value: object) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LoneSurrogate("JSON parse error - a lone surrogate in a string") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def check_encodable(value: object, raw: bytes | str) -> None:
    """Raise LoneSurrogate if ``value`` (parsed from ``raw``) holds a lone surrogate."""
    needle = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    if _SURROGATE_ESCAPE.search(needle):  # the walk only when an escape is there
        _check_text(value)


def loads(raw: bytes | str) -> Any:
    """``json.loads``, but ValueError (LoneSurrogate) for text that is not valid Unicode."""
    value = json.loads(raw)
    check_encodable(value, raw)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser catches ValueError only: JSON nested deeper than Python's
    recursion limit raises RecursionError, which would escape as a 500. And a lone
    surrogate is refused here, once, instead of wherever the text would go."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            value = super().parse(stream, media_type, parser_context)
            # Walked whole: a body in another charset hides its escapes from a scan.
            _check_text(value)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None
        except LoneSurrogate as exc:
            raise exceptions.ParseError(str(exc)) from None
        return value
