"""The API's schema class (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

Its own module: drf-spectacular's views, imported by visiona/api/schema.py,
load the schema class while they are being defined.
"""

from __future__ import annotations

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, for plain APIViews.

    It marks every PATCH body partial, imitating DRF's generic views. Ours
    validate with the serializer as written (``partial=True`` only where the view
    passes it), so the document shows the fields the view really requires.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A list the serializer refuses empty (``allow_empty=False``) says so: minItems 1."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if getattr(field, "allow_empty", True) is False and schema.get("type") == "array":
            schema.setdefault("minItems", 1)
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        if self.method != "PATCH":
            return super()._get_request_for_media_type(serializer, direction)
        self.method = "PUT"  # the one place the parent forces partial
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = "PATCH"
