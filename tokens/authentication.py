"""DRF authentication for people's scripts: ``Authorization: Bearer vap_…`` on /api/.

Listed before the session in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]: a
request with a bearer token is authenticated by it alone, so no CSRF check applies
(no cookie is involved). Pages never run DRF authentication, so a token opens no page;
this class also ignores anything outside /api/. The agent API (/api/agent/) has its own
authentication (device tokens): a personal token there is refused, and a device token
here is a ``token_invalid``.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tokens import services
from tokens.errors import TokenInvalid

API_PREFIX = "/api/"


class PersonalTokenAuthentication(BaseAuthentication):
    """Sets ``request.user`` to the owner and ``request.auth`` to the PersonalToken."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if not request.path.startswith(API_PREFIX):
            return None
        if len(parts) != 2:
            raise TokenInvalid()
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise TokenInvalid() from None
        token = services.token_authenticate(secret=secret)
        return token.owner, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
