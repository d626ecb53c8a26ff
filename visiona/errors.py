"""The one application error type and how it reaches a client.

Services raise an ``AppError`` subclass; the API answers it as
``{"error": {"code", "message", "details", "request_id"}}`` and pages show its
message on an error page. Each app adds its own subclasses (e.g.
``conversion.errors``); nothing else decides status codes or wording.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from visiona.log import current_request_id


class AppError(Exception):
    status: int = 500
    code: str = "internal_error"
    # Lazy (translated when the answer is made), or a plain str given per instance.
    message: str | Promise = _("Something went wrong on our side. Please try again later.")

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.code)

    def __str__(self) -> str:  # never the message: it may be lazy and translated
        return self.code


class ValidationFailed(AppError):
    status = 400
    code = "validation_failed"
    message = _("Some of the values you sent are not valid.")

    @classmethod
    def for_fields(cls, fields: list[dict[str, str]], message: str | None = None):
        return cls(message, details={"fields": fields})


class MalformedRequest(AppError):
    status = 400
    code = "malformed_request"
    message = _("The request could not be read.")


class TooManyParts(MalformedRequest):
    message = _("The request has too many form fields or files.")


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    message = _("Please sign in to continue.")


class PermissionDenied(AppError):
    status = 403
    code = "permission_denied"
    message = _("You do not have permission to do this.")


class CsrfFailed(AppError):
    status = 403
    code = "csrf_failed"
    message = _(
        "The CSRF token is missing or wrong. Reload the page and try again; a program "
        "sends the csrftoken cookie's value in an X-CSRFToken header."
    )


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = _("The page or resource you asked for does not exist.")


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    message = _("This method is not allowed here.")


class RequestTimeout(AppError):
    status = 408
    code = "request_timeout"
    message = _("The request took too long to arrive. Please try again.")


class UploadTooSlow(RequestTimeout):
    """A streamed upload's body arrived below the floor rate (UPLOAD_FLOOR_*)."""

    code = "upload_too_slow"
    message = _(
        "The upload arrived too slowly and was stopped. Check the connection and try again."
    )


class UploadsBusy(AppError):
    """This process already streams as many uploads as it takes at once."""

    status = 503
    code = "uploads_busy"
    message = _("The server is receiving many uploads right now. Please try again in a moment.")


class LengthRequired(AppError):
    status = 411
    code = "length_required"
    message = _("The request must state its length (Content-Length).")


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    message = _("The upload is too large.")


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    message = _("This content type is not supported here.")


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    message = _("Too many attempts. Please wait a moment and try again.")


class RequestTooLarge(AppError):
    status = 414
    code = "request_too_large"
    message = _("The request's address or headers are too long.")


class ServiceUnavailable(AppError):
    """The web app did not answer the front server (it is restarting or overloaded)."""

    status = 502
    code = "service_unavailable"
    message = _("visionA is not answering right now. Please try again in a moment.")


class ServerTimeout(AppError):
    status = 504
    code = "server_timeout"
    message = _("The server took too long to answer. Please try again in a moment.")


class DatabaseUnavailable(AppError):
    status = 503
    code = "database_unavailable"
    message = _("The service is temporarily unavailable. Please try again in a moment.")


class CacheUnavailable(AppError):
    """Redis (the shared cache) cannot be reached: every limiter, lease, single-flight
    lock and budget in it fails closed with this 503, never a 500 or a guess."""

    status = 503
    code = "cache_unavailable"
    message = _("The service is temporarily unavailable. Please try again in a moment.")


class SessionStoreUnavailable(AppError):
    status = 503
    code = "session_store_unavailable"
    message = _("Sign-in is temporarily unavailable. Please try again in a moment.")


def request_parse_error(exc: BaseException | None) -> AppError | None:
    """The answer to a request Django could not read (body, form, headers), else None.

    The one place for it: the API's exception handler, the page-side 400 handler
    and the error middleware (a body cut short on a page) all ask here, so a
    failure of Django's request parsing is a 4xx wherever it happens (a view, or
    the CSRF check before it).
    """
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyParts()
    # The rest of Django's "suspicious" family (a broken multipart form, a bad
    # Host...) is a 400 in Django's own handling too; a client that went away
    # mid-body is one as well.
    if isinstance(
        exc, SuspiciousOperation | BadRequest | MultiPartParserError | UnreadablePostError
    ):
        return MalformedRequest()
    return None


def mark_expected(response: HttpResponseBase, error: AppError) -> None:
    """The answer is an outcome we chose (RequestIdMiddleware logs it at INFO or
    WARNING, not ERROR), unless it is the generic 500 of an exception nobody handled."""
    if type(error) is not AppError:
        mark_expected_code(response, error.code)


def mark_expected_code(response: HttpResponseBase, code: str) -> None:
    """``code`` names an answer we chose (read by ``visiona.middleware.log_answer``)."""
    setattr(response, EXPECTED_ERROR, code)


EXPECTED_ERROR = "expected_error"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def envelope(error: AppError) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": str(error.message),
            "details": error.details,
            "request_id": current_request_id(),
        }
    }


def _user_for_error_page(request: HttpRequest, error: AppError):
    """The user for the error page's header, found without touching the database
    during an outage. (Nothing else on the error page reads the database.)"""
    if isinstance(error, DatabaseUnavailable | SessionStoreUnavailable | CacheUnavailable):
        return AnonymousUser()  # looking the user up would hit the outage again
    try:
        user = request.user
        user.is_authenticated  # noqa: B018  (forces the lazy lookup here)
    except Exception:
        return AnonymousUser()
    return user


def error_response(request: HttpRequest, error: AppError) -> HttpResponse:
    """The error as the API's envelope under /api/, else as an error page."""
    if is_api_request(request):
        response: HttpResponse = JsonResponse(envelope(error), status=error.status)
    else:
        # Every context processor reads request.user: give them the settled one, so
        # none can retry a lookup that fails and crash the page reporting the failure.
        request.user = _user_for_error_page(request, error)
        context = {"status": error.status, "code": error.code, "message": error.message}
        response = render(request, "errors/error.html", context, status=error.status)
    mark_expected(response, error)
    for name, value in error.headers.items():
        response[name] = value
    return response
