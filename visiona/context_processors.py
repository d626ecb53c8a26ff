from django.conf import settings

from visiona.time_zone import session_zone_name


def site(request) -> dict:
    return {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
        # The zone the browser told us ("" until it has): time-zone.js compares. Read
        # only where a page shows it (signed in): an error page about a database outage
        # must not load a database session here.
        "browser_time_zone": lambda: session_zone_name(getattr(request, "session", None)),
    }
