"""``visiona``: the argparse tree; each command module registers itself."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from visiona_client import __version__
from visiona_client.visiona_cli import check, exit_codes

COMMANDS = (check,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visiona", description="visionA Cloud from scripts.")
    parser.add_argument("--version", action="version", version=f"visiona {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
