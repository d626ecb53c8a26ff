"""The home page and the error handlers (a page, or the envelope under /api/)."""

import sys

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from visiona import errors
from visiona.middleware import as_app_error


@login_required
def home(request):
    return render(request, "home.html")


def bad_request(request, exception=None):
    error = errors.request_parse_error(exception) or errors.MalformedRequest()
    return errors.error_response(request, error)


def permission_denied(request, exception=None):
    return errors.error_response(request, errors.PermissionDenied())


def page_not_found(request, exception=None):
    return errors.error_response(request, errors.NotFound())


def server_error(request):
    # Django calls this inside its ``except`` block, so the exception is at hand: a
    # database outage raised by a middleware (out of AppErrorMiddleware's reach, e.g.
    # loading a database-backed session) still answers 503, not 500.
    return errors.error_response(request, as_app_error(sys.exception()) or errors.AppError())
