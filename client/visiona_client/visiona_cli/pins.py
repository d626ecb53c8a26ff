"""``visiona devices pin|unpin`` and ``visiona groups pin|unpin``: the same request and
answer for either subject (``/api/devices/ID`` or ``/api/groups/ID``)."""

from __future__ import annotations

import argparse
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api


def pin(args: argparse.Namespace, api: Api, subject_path: str, note: str) -> int:
    """Pin the subject with ``--reason``; ``note`` on stderr, the pin as the result."""
    answer = api.post_json(f"{subject_path}/pin", {"reason": args.reason})
    return _said(args, answer, note)


def unpin(args: argparse.Namespace, api: Api, subject_path: str, note: str) -> int:
    answer = api.post_json(f"{subject_path}/unpin")
    return _said(args, answer, note)


def _said(args: argparse.Namespace, answer: dict[str, Any], note: str) -> int:
    args.output.note(note)
    args.output.result({"pin": answer})
    return exit_codes.OK
