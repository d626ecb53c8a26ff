"""The home page and the error handlers (a page, or the envelope under /api/)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from visiona import errors


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
    return errors.error_response(request, errors.AppError())
