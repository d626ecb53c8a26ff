from django.conf import settings

from visiona.registry import page_contexts


def site(request) -> dict:
    """The site's own context, then what each app registered (visiona/registry.py)."""
    context = {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
    }
    for processor in page_contexts():
        context.update(processor(request))
    return context
