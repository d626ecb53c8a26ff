"""The JSON API: DRF's defaults and the OpenAPI document."""

import visiona

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    # A personal API token first: a request that carries one is judged by it alone (no
    # CSRF); otherwise the session. Scopes: each view declares them (visiona/api/scopes.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tokens.authentication.PersonalTokenAuthentication",
        "visiona.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "tokens.permissions.TokenScopeRequired",
    ],
    # DRF's own, but the JSON one also refuses JSON nested too deeply (visiona/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "visiona.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "visiona.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "visiona.api.autoschema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "visionA Cloud API",
    "DESCRIPTION": "Convert ONNX models for Kneron chips, keep them in My models, pair devices.",
    "VERSION": visiona.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    # Like every /api/ view: signed-in users only, through the same session.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "tokens.permissions.TokenScopeRequired",
    ],
    "SERVE_AUTHENTICATION": [
        "tokens.authentication.PersonalTokenAuthentication",
        "visiona.api.authentication.SessionAuthentication",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Keeps the document to /api/; importing the module also registers our extensions.
    "PREPROCESSING_HOOKS": ["visiona.api.schema.only_api_paths"],
    # The errors every operation shares (sign-in, unreadable body, outage), in one place.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "visiona.api.schema.add_common_errors",
    ],
    # One name for the chip enumeration wherever a chip or a list of chips appears.
    # Named by dotted path (looked up by drf-spectacular): two "state" enums, one name each.
    "ENUM_NAME_OVERRIDES": {
        "ChipEnum": "visiona.chips.Chip",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Django's <int:...> matches [0-9]+; ids are bigint (a larger one is a 404).
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}
    },
    # The docs page loads Swagger UI and Redoc from our static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
