from django.conf import settings

from visiona.registry import page_contexts
from visiona.time_zone import session_zone_name


def site(request) -> dict:
    """The site's own context, then what each app registered (visiona/registry.py)."""
    context = {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
        # The zone the browser told us ("" until it has): time-zone.js compares. Read
        # only where a page shows it (signed in): an error page about a database outage
        # must not load a database session here.
        "browser_time_zone": lambda: session_zone_name(getattr(request, "session", None)),
    }
    for processor in page_contexts():
        context.update(processor(request))
    return context
