"""``manage.py write_error_pages``: nginx's own errors in the app's shapes, as files.

When nginx answers by itself (the app not answering: 502, 504; a body or header too
large; an internal location asked from outside), the user still gets the API's
envelope under /api/ and the site's error page elsewhere, in their language
(deploy/nginx/visiona/error-page.conf picks the file). Written into
``STATIC_ROOT/errors/<language>/<status>.{html,json}`` (and ``<name>.{html,json}`` for
the errors apps register, ``visiona.registry.register_error_page``) after ``collectstatic``, so
whatever serves the static files has them; the JSON's ``request_id`` is null here and
filled in by nginx.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from visiona import errors, registry

# What each status nginx may answer means to a user: the app's own error types.
PAGES: dict[int, type[errors.AppError]] = {
    400: errors.MalformedRequest,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    408: errors.RequestTimeout,
    411: errors.LengthRequired,
    413: errors.PayloadTooLarge,
    414: errors.RequestTooLarge,
    # nginx's "request header too large", sent as 400.
    494: errors.RequestTooLarge,
    500: errors.AppError,
    502: errors.ServiceUnavailable,
    503: errors.ServiceUnavailable,
    504: errors.ServerTimeout,
}
# The status the client sees, where nginx sends another than its internal one.
SENT_STATUS = {494: 400}


class Command(BaseCommand):
    help = "Write nginx's error pages (HTML and the API's JSON envelope) in every language."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", type=Path, help="default: STATIC_ROOT/errors (served by nginx)"
        )

    def handle(self, *args, output: Path | None = None, **options) -> None:
        folder = Path(output or Path(settings.STATIC_ROOT) / "errors")
        count = 0
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                target = folder / language
                target.mkdir(parents=True, exist_ok=True)
                # (file name, status the page shows, what it means)
                pages = [
                    (str(status), SENT_STATUS.get(status, status), error_type)
                    for status, error_type in PAGES.items()
                ]
                pages += [
                    (name, error_type.status, error_type)
                    for name, error_type in registry.error_pages().items()
                ]
                for name, shown, error_type in pages:
                    error = error_type()
                    (target / f"{name}.json").write_text(_envelope(error) + "\n")
                    (target / f"{name}.html").write_text(_page(shown, error))
                    count += 2
        self.stdout.write(f"{count} error pages written to {folder}")


def _envelope(error: errors.AppError) -> str:
    # "request_id": null is what nginx replaces (sub_filter): keep the spacing.
    body: dict[str, object] = {
        "error": {
            "code": error.code,
            "message": str(error.message),
            "details": {},
            "request_id": None,
        }
    }
    return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))


def _page(shown: int, error: errors.AppError) -> str:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    context = {
        "status": shown,
        "code": error.code,
        "message": error.message,
        # No form with a CSRF token baked into a file everyone is sent.
        "static_error_page": True,
    }
    return render_to_string("errors/error.html", context, request=request)
