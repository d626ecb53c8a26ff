"""The identity provider's endpoints, from settings or its discovery document."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.utils import import_from_settings

from visiona.errors import AppError

logger = logging.getLogger(__name__)

DISCOVERY_CACHE_SECONDS = 3600
# mozilla-django-oidc setting name -> discovery document key
_ENDPOINT_KEYS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
}
_REQUIRED = {"OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT"}


class SignInUnavailable(AppError):
    status = 503
    code = "idp_unavailable"
    message = _("Sign-in through Member Center is unavailable right now. Please try again later.")


def discovery_document() -> dict:
    issuer = settings.OIDC_OP_ISSUER
    cache_key = f"oidc:discovery:{issuer}"
    document = cache.get(cache_key)
    if document is not None:
        return document
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("oidc discovery failed: %s", exc.__class__.__name__, extra={"url": url})
        raise SignInUnavailable() from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        logger.error("oidc discovery document names another issuer", extra={"url": url})
        raise SignInUnavailable()
    cache.set(cache_key, document, DISCOVERY_CACHE_SECONDS)
    return document


def provider_setting(attr: str, *args):
    """``get_settings`` for mozilla-django-oidc's classes: explicit settings win,
    endpoints left empty are read from the issuer's discovery document."""
    if attr in _ENDPOINT_KEYS and not getattr(settings, attr, ""):
        value = discovery_document().get(_ENDPOINT_KEYS[attr])
        if not value and attr in _REQUIRED:
            raise SignInUnavailable()
        return value
    return import_from_settings(attr, *args)
