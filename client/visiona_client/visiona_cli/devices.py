"""``visiona devices``: your paired devices and whether they are online."""

from __future__ import annotations

import argparse

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.session import api_for


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("devices", parents=[common], help="your paired devices")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    api = api_for(args)
    devices = api.get_json("/api/devices/")["devices"]
    rows = [
        [d["id"], d["name"], d["chip"], d["connection_status"], (d["last_seen_at"] or "-")[:19]]
        for d in devices
    ]
    args.output.table(rows, ["ID", "NAME", "CHIP", "CONNECTION", "LAST SEEN"])
    args.output.result({"devices": devices})
    return exit_codes.OK
