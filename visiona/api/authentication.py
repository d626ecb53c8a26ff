"""Session authentication that answers 401, not 403, when signed out, and a
CSRF failure as its own error, not a permission problem."""

from django.http import HttpRequest, HttpResponse
from rest_framework import authentication

from visiona.errors import CsrfFailed


def _no_view(request: HttpRequest) -> HttpResponse:
    """The view the CSRF check is handed: never called (only its verdict is used)."""
    raise AssertionError("the CSRF check calls no view")


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate_header(self, request) -> str:
        # DRF answers 403 for anonymous users unless a challenge is defined.
        return 'Session realm="api"'

    def enforce_csrf(self, request) -> None:
        # DRF's own check, but it raises the generic PermissionDenied, which a client
        # cannot tell from a real permission problem.
        check = authentication.CSRFCheck(_no_view)
        check.process_request(request)  # puts the cookie's secret into request.META
        reason = check.process_view(request, _no_view, (), {})  # DRF's CSRFCheck: the reason
        if reason:
            raise CsrfFailed(details={"reason": reason})
