"""OpenAPI: the schema and docs views, which routes the document covers, how our
authentication and error envelope look in it.

drf-spectacular reads serializers from generic views; ours are plain APIViews
(validate, call a service, serialize), so each operation states its request and
response with ``@extend_schema`` next to its view, and its errors with
``error_response`` (the envelope below).

This module is imported through SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"],
which registers the authentication extensions before any view is described.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer


class ErrorEnvelopeSerializer(serializers.Serializer):
    """Every API error: ``{"error": {code, message, details, request_id}}`` (visiona/errors.py)."""

    error = inline_serializer(
        "Error",
        {
            "code": serializers.CharField(help_text="Stable, for programs: e.g. model_not_found."),
            "message": serializers.CharField(help_text="For people, in their language."),
            "details": serializers.DictField(help_text="e.g. fields: [{field, message}]."),
            "request_id": serializers.CharField(),
        },
    )


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorEnvelopeSerializer, description=description)


class _ErrorsAsJson:
    """Errors leave as the JSON envelope, like everywhere under /api/, rather than
    through the view's own renderer (YAML for the schema, HTML for the docs)."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(_ErrorsAsJson, SpectacularAPIView):
    pass


class SchemaDocsView(_ErrorsAsJson, SpectacularSwaggerSplitView):
    pass


def only_api_paths(endpoints):
    """The schema documents /api/ only (not the sandbox's stand-in upstreams)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "visiona.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class DeviceTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "devices.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A device session token."}
