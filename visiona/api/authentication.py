"""Session authentication that answers 401, not 403, when signed out, and a
CSRF failure as its own error, not a permission problem."""

from rest_framework import authentication

from visiona.errors import CsrfFailed


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate_header(self, request) -> str:
        # DRF answers 403 for anonymous users unless a challenge is defined.
        return 'Session realm="api"'

    def enforce_csrf(self, request) -> None:
        # DRF's own check, but it raises the generic PermissionDenied, which a client
        # cannot tell from a real permission problem.
        check = authentication.CSRFCheck(lambda request: None)
        check.process_request(request)  # puts the cookie's secret into request.META
        reason = check.process_view(request, None, (), {})  # DRF's CSRFCheck: the reason
        if reason:
            raise CsrfFailed(details={"reason": reason})
