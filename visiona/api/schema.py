"""OpenAPI: the schema and docs views, which routes the document covers, how our
authentication and error envelope look in it.

drf-spectacular reads serializers from generic views; ours are plain APIViews
(validate, call a service, serialize), so each operation states its request and
response with ``@extend_schema`` next to its view, and its errors with
``error_response`` (the envelope below).

The errors every operation shares (401/403 where sign-in is needed, 415 and
400/413 for a body that cannot be read, 404 on paths with an id, 503 in an
outage) are added in one place, ``add_common_errors``, not on each view.

This module is imported through SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"],
which registers the session authentication's extension before any view is
described. An app with an authentication of its own describes it in its own
module, imported from its ``AppConfig.ready()`` (devices: ``devices/api/schema.py``).
"""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from visiona.api.scopes import Scope


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


ERROR_COMPONENT = "#/components/schemas/ErrorEnvelope"
_SIGN_IN_ERRORS = {
    "401": "unauthenticated: not signed in, or the session ended; token_invalid, "
    "token_expired, token_revoked: the personal API token cannot be used.",
    "403": "csrf_failed: the X-CSRFToken header is missing or wrong (sessions only); "
    "token_scope_missing: the token lacks the scope (details.required); token_not_allowed: "
    "tokens cannot do this; permission_denied: not allowed.",
}
_BODY_ERRORS = {
    "400": "malformed_request: the body could not be read (invalid JSON or form, too many "
    "fields or files); validation_failed: details.fields lists the refused values.",
    "413": "payload_too_large: the body is too large.",
    "415": "unsupported_media_type: the body's content type is not one listed here.",
}
_WRITES = {"post", "put", "patch"}
_PATH_ERRORS = {"404": "not_found: no such resource."}
_OUTAGE_ERRORS = {
    "503": "database_unavailable, session_store_unavailable, cache_unavailable: try again "
    "in a moment.",
}


def add_common_errors(result, generator, **kwargs):
    """Postprocessing hook: the errors any operation can answer, where they apply.

    Merged with the operation's own: where it describes a status itself (e.g. its
    400 with its own codes), the common codes of that status are added to its
    description, so every code the operation can answer is listed under its status.
    A status it leaves out is added whole, as the one error envelope.
    """
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            errors = dict(_OUTAGE_ERRORS)
            if {} not in operation.get("security", [{}]):
                errors |= _SIGN_IN_ERRORS
            # A POST without a documented body still has one read: by the CSRF check.
            if "requestBody" in operation or method in _WRITES:
                errors |= _BODY_ERRORS
            if "{" in path:
                errors |= _PATH_ERRORS
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                if status in responses:
                    responses[status] = _merged(responses[status], description)
                    continue
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": ERROR_COMPONENT}}},
                }
    return result


_CODE = re.compile(r"[a-z][a-z0-9_]*")


def documented_codes(description: str) -> set[str]:
    """The error codes a response description names, clause by clause:
    ``code_a, code_b: why; code_c: why`` (a clause of codes alone needs no why)."""
    codes = set()
    for clause in description.split(";"):
        head = clause.partition(":")[0]
        words = [word.strip(" .") for word in head.split(",")]
        if words and all(_CODE.fullmatch(word) for word in words):
            codes |= set(words)
    return codes


def _merged(response: dict, common: str) -> dict:
    """The operation's own response for a status, naming the common codes too."""
    own = response.get("description", "")
    missing = documented_codes(common) - documented_codes(own)
    if not missing:
        return response
    # The common clauses that name a missing code, as they are worded above.
    clauses = [clause.strip() for clause in common.split(";") if documented_codes(clause) & missing]
    return {**response, "description": "; ".join([own.rstrip(" .;"), *clauses])}


class _ErrorsAsJson(APIView):
    """Errors leave as the JSON envelope, like everywhere under /api/, rather than
    through the view's own renderer (YAML for the schema, HTML for the docs)."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(_ErrorsAsJson, SpectacularAPIView):
    token_scope = Scope.READ

    pass


class SchemaDocsView(_ErrorsAsJson, SpectacularSwaggerSplitView):
    token_scope = Scope.READ

    pass


def only_api_paths(endpoints):
    """The schema documents /api/ only (not the sandbox's stand-in upstreams)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "visiona.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
