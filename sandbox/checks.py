"""Warns when the fake upstreams are switched on outside development."""

from django.conf import settings
from django.core.checks import Warning, register

SANDBOX_IN_PRODUCTION = (
    "VISIONA_SANDBOX is on while DEBUG is off: fake upstreams are served under "
    "/sandbox/ and stand in for every upstream that is not configured."
)


@register()
def sandbox_outside_development(app_configs, **kwargs) -> list[Warning]:
    if settings.VISIONA_SANDBOX and not settings.DEBUG:
        return [
            Warning(
                SANDBOX_IN_PRODUCTION,
                hint="Unset VISIONA_SANDBOX and configure the real upstreams.",
                id="sandbox.W001",
            )
        ]
    return []
