from django.conf import settings

from visiona.time_zone import session_zone_name


def site(request) -> dict:
    return {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
        # The zone the browser told us ("" until it has): time-zone.js compares.
        "browser_time_zone": session_zone_name(getattr(request, "session", None)),
    }
