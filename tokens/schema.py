"""How the OpenAPI document describes a personal API token.

Defining the extension registers it with drf-spectacular; ``TokensConfig.ready()``
imports this module, so core's schema (visiona/api/schema.py) needs to know no app.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (vap_…) from the API tokens page; no CSRF. "
            "Each operation needs a scope: read, convert or deploy.",
        }
