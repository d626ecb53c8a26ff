"""Cross-cutting middleware: request ids, and errors turned into answers."""

from __future__ import annotations

import logging
import re
import uuid

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, UnreadablePostError
from django.middleware import common as django_common
from redis.exceptions import RedisError

from visiona.errors import (
    EXPECTED_ERROR,
    AppError,
    CacheUnavailable,
    DatabaseUnavailable,
    error_response,
    is_api_request,
    request_parse_error,
)
from visiona.log import request_id_var

logger = logging.getLogger(__name__)
answer_logger = logging.getLogger("visiona.answers")

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's id is echoed into logs and headers, so only plain tokens are kept.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestIdMiddleware:
    """Gives every request an id, returns it in a header and puts it in every log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            log_answer(request, response)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def log_answer(request, response) -> None:
    """One line for an error answer, with the request id, at the level it deserves.

    Django's request logger would log every 5xx at ERROR (and every 4xx at WARNING),
    after the request id is gone. An answer we chose (an AppError, a device's own
    answer, an unhealthy /healthz: ``response.expected_error`` names it) is an
    outcome, not a bug: INFO for 4xx, WARNING for 5xx. A 5xx nobody chose is ERROR.
    An uncaught exception was logged already, with its traceback, by Django.
    """
    status = response.status_code
    if status < 400 or getattr(response, "_has_been_logged", False):
        return
    code = getattr(response, EXPECTED_ERROR, "")
    level = logging.INFO if status < 500 else logging.WARNING if code else logging.ERROR
    answer_logger.log(
        level,
        "%s %s answered %s %s",
        request.method,
        request.path,
        status,
        code or "-",
        extra={"status_code": status, "error_code": code},
    )
    response._has_been_logged = True  # Django's request logger: already said


def as_app_error(exception: BaseException | None) -> AppError | None:
    """The AppError an exception stands for: itself, a 400 for a body cut short, or a
    503 for a database outage."""
    if isinstance(exception, AppError):
        return exception
    # Django answers the SuspiciousOperation family itself (logged to django.security,
    # then handler400, which asks request_parse_error too); a client gone mid-body is
    # an OSError to it, so a 500 unless answered here.
    if isinstance(exception, UnreadablePostError):
        return request_parse_error(exception)
    if isinstance(exception, OperationalError | InterfaceError) or (
        type(exception) is DatabaseError
    ):
        logger.error("database unavailable: %s", exception.__class__.__name__, exc_info=exception)
        return DatabaseUnavailable()
    if isinstance(exception, RedisError):
        logger.warning("cache unavailable: %s", exception.__class__.__name__)
        return CacheUnavailable()
    return None


class CommonMiddleware(django_common.CommonMiddleware):
    """Django's, but an /api/ path without its trailing slash is not redirected: a
    301 would be an HTML answer, and a client following it would turn a POST into a
    GET. Such a path is the API's 404 envelope, naming the path with the slash."""

    def should_redirect_with_slash(self, request) -> bool:
        if is_api_request(request):
            return False
        return super().should_redirect_with_slash(request)


class AppErrorMiddleware:
    """An AppError raised by a page view becomes its error page, an unreadable
    request a 4xx, and a database outage a clear 503, never a stack trace.
    (API views answer through DRF's handler.)

    The signed-in user is looked up here, before the view, so an outage surfaces
    at this one point (as the page, or the envelope under /api/) instead of lazily
    inside a template or a later lookup.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            try:
                user.is_authenticated  # noqa: B018  (resolves the lazy user)
            except DatabaseError as exc:
                error = as_app_error(exc)
                if error is None:
                    raise
                return error_response(request, error)
        return self.get_response(request)

    def process_exception(self, request, exception):
        error = as_app_error(exception)
        return None if error is None else error_response(request, error)


class HandoffResponse(HttpResponse):
    """An answer whose body the front server fetches elsewhere (``X-Accel-Redirect``).

    nginx keeps almost none of the headers of an answer it redirects internally, yet
    every middleware has added its own (frame and referrer policies, the language,
    ``Vary``, the request id). ``HandoffMiddleware``, the outermost, calls ``seal``
    once they all have: the subclass passes them on to whoever answers in the end.
    """

    def seal(self) -> None:
        """Called with every header in place; the default passes nothing on."""


class HandoffMiddleware:
    """Outermost: lets a ``HandoffResponse`` see the headers the whole stack gave it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HandoffResponse):
            response.seal()
        return response
