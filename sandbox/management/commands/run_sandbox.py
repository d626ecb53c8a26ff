"""Serve only the sandbox upstreams, on their own port.

    VISIONA_SANDBOX=1 DEBUG=1 .venv/bin/python manage.py run_sandbox 127.0.0.1:8001

visionA then reaches them with VISIONA_SANDBOX_BASE_URL=http://127.0.0.1:8001.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run

PREFIX = "/sandbox/"


def sandbox_only(application):
    """The project's WSGI application, answering 404 outside /sandbox/."""

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return application(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Only /sandbox/ is served here.\n"]

    return app


class Command(BaseCommand):
    help = "Serve the sandbox Member Center, converter and File Access Agent (threaded)."

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="?", default="127.0.0.1:8001", help="host:port")

    def handle(self, *args, address: str, **options):
        if not settings.VISIONA_SANDBOX:
            raise CommandError("Set VISIONA_SANDBOX=1: the sandbox URLs exist only then.")
        host, _, port = address.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"Give the address as host:port, not {address!r}")
        host = host or "127.0.0.1"
        self.stdout.write(
            f"Sandbox upstreams on http://{host}:{port}{PREFIX} (mc/, converter/, faa/); "
            f"files in {settings.SANDBOX_DIR}. Quit with CONTROL-C."
        )
        application = sandbox_only(get_internal_wsgi_application())
        with contextlib.suppress(KeyboardInterrupt):
            run(host, int(port), application, threading=True, server_cls=WSGIServer)
