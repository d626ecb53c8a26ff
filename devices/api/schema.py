"""How the OpenAPI document describes the agent's authentication (a device token).

Defining the extension registers it with drf-spectacular; ``DevicesConfig.ready()``
imports this module, so core's schema (visiona/api/schema.py) needs to know no app.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "devices.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A device session token."}
