from django.conf import settings
from django.utils.translation import pgettext_lazy

from visiona.registry import page_contexts
from visiona.time_zone import session_zone_name

ENVIRONMENT_LABELS = {
    "development": pgettext_lazy("environment", "development"),
    "staging": pgettext_lazy("environment", "staging"),
    "test": pgettext_lazy("environment", "test"),
}


def site(request) -> dict:
    """The site's own context, then what each app registered (visiona/registry.py)."""
    context = {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
        # The footer's badge in the reader's words; another name an operator chose as is.
        "visiona_environment_label": ENVIRONMENT_LABELS.get(
            settings.VISIONA_ENVIRONMENT, settings.VISIONA_ENVIRONMENT
        ),
        # The zone the browser told us ("" until it has): time-zone.js compares. Read
        # only where a page shows it (signed in): an error page about a database outage
        # must not load a database session here.
        "browser_time_zone": lambda: session_zone_name(getattr(request, "session", None)),
    }
    for processor in page_contexts():
        context.update(processor(request))
    return context
