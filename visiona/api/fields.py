"""Input fields that accept what the OpenAPI document says, and nothing more."""

from __future__ import annotations

from rest_framework import serializers


class _TextOnly:
    """DRF's CharField turns a number into text; the document says string, so a
    number (or a boolean) is refused like any other wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(_TextOnly, serializers.CharField):
    pass


class RegexField(_TextOnly, serializers.RegexField):
    pass
