"""Session authentication that answers 401, not 403, when signed out."""

from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate_header(self, request) -> str:
        # DRF answers 403 for anonymous users unless a challenge is defined.
        return 'Session realm="api"'
