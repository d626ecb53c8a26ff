from django.conf import settings


def site(request) -> dict:
    return {
        "oidc_enabled": settings.OIDC_ENABLED,
        "visiona_environment": settings.VISIONA_ENVIRONMENT,
    }
