"""``visiona whoami``: who the stored token signs in as, and its scopes."""

from __future__ import annotations

import argparse

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.session import api_for


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("whoami", parents=[common], help="show who you are signed in as")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    api = api_for(args)
    me = api.get_json("/api/auth/me")
    token = me.get("token") or {}
    args.output.say(f"{me['user']['username']} on {api.server.rstrip('/')}")
    args.output.say(f"scopes: {', '.join(me['scopes'])}")
    if token:
        name, start, expires = token["name"], token["starts_with"], token["expires_at"]
        args.output.say(f"token: {name} ({start}…), expires {expires}")
    args.output.result({"server": api.server.rstrip("/"), **me})
    return exit_codes.OK
