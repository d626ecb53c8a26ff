"""``visiona login``: check a personal token with the server and store it (0600)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from visiona_client.server_api import normalize_server_url
from visiona_client.visiona_cli import config, exit_codes
from visiona_client.visiona_cli.api import Api, CliError


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "login",
        parents=[common],
        help="store a personal API token",
        description="Store a personal API token (from the API tokens page). The token is "
        "read from VISIONA_TOKEN, else from stdin when it is piped, else asked for without "
        "echo.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.output
    stored = config.load_stored()
    raw_server = args.server or os.environ.get("VISIONA_SERVER") or stored.server
    if not raw_server:
        raise CliError("Give --server URL.", exit_code=exit_codes.BAD_INPUT, code="no_server")
    try:
        server = normalize_server_url(raw_server)
    except ValueError as exc:
        raise CliError(str(exc), exit_code=exit_codes.BAD_INPUT, code="bad_server") from None
    token = os.environ.get("VISIONA_TOKEN") or _prompt()
    try:
        me = Api(server, token).get_json("/api/auth/me")
    except CliError as error:
        if error.code and error.code != "not_json":  # visionA's own refusal, or no answer
            raise
        raise _not_visiona(server, error) from None
    if me.get("means") != "token":
        raise CliError("The server did not take this as a token.", exit_code=exit_codes.AUTH)
    path = config.save(config.with_login(stored, server, token))
    user = me["user"]["username"]
    out.say(f"Logged in to {server} as {user} (scopes: {', '.join(me['scopes'])}).")
    out.say(f"Token stored in {path}.")
    out.result({"server": server, "user": me["user"], "scopes": me["scopes"], "config": str(path)})
    return exit_codes.OK


def _not_visiona(server: str, error: CliError) -> CliError:
    """An answer without visionA's error envelope: the URL is not visionA's base URL (a
    path such as /api/ added, another site), which a bare "HTTP 404" did not say."""
    return CliError(
        f"{server} does not look like visionA: GET {server}/api/auth/me did not answer as "
        f"visionA does ({error.message}). Give visionA's base URL, the address "
        "its pages are served at (e.g. https://visiona.example.com), without /api/.",
        exit_code=exit_codes.BAD_INPUT,
        code="not_visiona",
        status=error.status,
        details={"server": server},
    )


def _prompt() -> str:
    """Asked without echo on a terminal; read from stdin when it is piped
    (``echo $TOKEN | visiona login``), where getpass would warn it cannot hide it."""
    try:
        if sys.stdin is not None and not sys.stdin.isatty():
            token = sys.stdin.readline().strip()
        else:
            token = getpass.getpass("Personal API token: ").strip()
    except EOFError:
        token = ""
    if not token:
        raise CliError("No token given.", exit_code=exit_codes.AUTH, code="no_token")
    return token
