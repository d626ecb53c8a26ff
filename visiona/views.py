"""The home page, the browser's time zone, and the error handlers (a page, or the
envelope under /api/)."""

import sys

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from visiona import errors, time_zone
from visiona.middleware import as_app_error


@login_required
def home(request):
    return render(request, "home.html")


@login_required
@require_POST
def time_zone_set(request):
    """The browser's zone (static/js/time-zone.js), remembered on the session: 204,
    or 400 for a name that is not an IANA zone."""
    if not time_zone.remember(request.session, request.POST.get("time_zone", "")):
        return errors.error_response(
            request,
            errors.ValidationFailed.for_fields(
                [{"field": "time_zone", "message": str(errors.ValidationFailed.message)}]
            ),
        )
    return HttpResponse(status=204)


def bad_request(request, exception=None):
    error = errors.request_parse_error(exception) or errors.MalformedRequest()
    return errors.error_response(request, error)


def permission_denied(request, exception=None):
    return errors.error_response(request, errors.PermissionDenied())


API_NOT_FOUND = "api-not-found"


def page_not_found(request, exception=None):
    details = {}
    if errors.is_api_request(request) and not request.path.endswith("/"):
        # No redirect under /api/ (visiona.middleware.CommonMiddleware): say where it is.
        with_slash = request.path + "/"
        try:
            match = resolve(with_slash)
        except Resolver404:
            pass
        else:
            if match.url_name != API_NOT_FOUND:
                details = {"path": with_slash}
    return errors.error_response(request, errors.NotFound(details=details))


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """The root URLconf's last route: an /api/ path no other route matches is the
    404 envelope, as handler404 answers it, with DEBUG on too (Django's technical
    404 page is HTML and lists every route). Any method, no CSRF check: no route,
    nothing to protect, as when handler404 answers."""
    return page_not_found(request)


def server_error(request):
    # Django calls this inside its ``except`` block, so the exception is at hand: a
    # database outage raised by a middleware (out of AppErrorMiddleware's reach, e.g.
    # loading a database-backed session) still answers 503, not 500.
    return errors.error_response(request, as_app_error(sys.exception()) or errors.AppError())


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: under /api/, the csrf_failed envelope; a page gets the site's
    frame, what happened in the user's words, and a way back to the form."""
    error = errors.CsrfFailed(details={"reason": reason})
    if errors.is_api_request(request):
        return errors.error_response(request, error)
    referer = request.headers.get("Referer", "")
    same_site = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {
        "status": error.status,
        "code": error.code,
        "heading": _("This form could not be sent"),
        "message": _(
            "For your security, every form carries a token that proves it came from this "
            "site. This one was missing or out of date, usually because the page was open "
            "for a long time, you signed in or out in another tab, or your browser blocks "
            "cookies for this site."
        ),
        "advice": _(
            "Go back, reload the page and send the form again. If it keeps happening, "
            "allow cookies for this site."
        ),
        "back_url": referer if referer and same_site else "",
    }
    return render(request, "errors/error.html", context, status=error.status)
