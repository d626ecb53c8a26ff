"""The API client a command uses: the server and token from the options, the
environment or the stored configuration.

A stored token goes only to the server it was stored for (same origin): ``--server``
or ``VISIONA_SERVER`` naming another one is refused before any request, unless
``VISIONA_TOKEN`` gives the token to use there.
"""

from __future__ import annotations

import argparse
import os

from visiona_client.visiona_cli import config, exit_codes
from visiona_client.visiona_cli.api import Api, CliError


def api_for(args: argparse.Namespace) -> Api:
    stored = config.load_stored()
    server = getattr(args, "server", None) or os.environ.get("VISIONA_SERVER") or stored.server
    if server and not config.origin(server):
        # Checked before the token: "not logged in there, run login" would send the user
        # to a login that refuses the same URL.
        raise CliError(
            f"not an http(s) URL: {server!r}: give it as http://HOST:PORT or https://HOST.",
            exit_code=exit_codes.BAD_INPUT,
            code="bad_server",
        )
    token = os.environ.get("VISIONA_TOKEN") or ""
    if not token and server:
        token = stored.token_for(server)
        if not token and stored.tokens:
            raise _not_logged_in_there(server, stored.server)
    return Api(server, token)


def _not_logged_in_there(server: str, stored_server: str) -> CliError:
    return CliError(
        f"Not logged in to {server}: no token is stored for it (the last login was to "
        f"{stored_server}), and a stored token is sent only to the server it was made for. "
        f"Run `visiona login --server {server}` with a token from that server, or set "
        "VISIONA_TOKEN.",
        exit_code=exit_codes.AUTH,
        code="not_logged_in",
        details={"server": server, "logged_in_to": stored_server},
    )
