"""mozilla-django-oidc's views bound to our discovery, and the sign-out URL."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest
from django.urls import reverse
from mozilla_django_oidc import views as oidc_views

from visiona.auth.discovery import provider_setting

logger = logging.getLogger(__name__)


class AuthenticationRequestView(oidc_views.OIDCAuthenticationRequestView):
    """Starts sign-in: redirect to Member Center with PKCE (S256), state and nonce."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404
        super().__init__(*args, **kwargs)


class AuthenticationCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    get_settings = staticmethod(provider_setting)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            # A stale or forged callback (unknown state, bad token): back to the
            # sign-in page with a message, not a bare 400.
            logger.warning("oidc callback refused: %s", exc.__class__.__name__)
            return self.login_failure()


def provider_logout_url(request: HttpRequest) -> str:
    """Member Center's end-session URL with ``id_token_hint``, or home without one."""
    home = request.build_absolute_uri(reverse("home"))
    endpoint = provider_setting("OIDC_OP_END_SESSION_ENDPOINT")
    id_token = request.session.get("oidc_id_token")
    if not endpoint:
        return home
    params = {"post_logout_redirect_uri": home, "client_id": settings.OIDC_RP_CLIENT_ID}
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
