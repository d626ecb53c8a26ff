"""The API client a command uses: the server and token from the options, the
environment or the stored configuration."""

from __future__ import annotations

import argparse

from visiona_client.visiona_cli import config
from visiona_client.visiona_cli.api import Api


def api_for(args: argparse.Namespace) -> Api:
    stored = config.load()
    server = getattr(args, "server", None) or stored.server
    return Api(server, stored.token)
