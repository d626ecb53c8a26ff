"""``visiona check MODEL.onnx --chip 720 [--json]``: the ONNX pre-flight, offline.

Exit 0 when the model can be converted (warnings included), 2 on a blocker or when
the file cannot be read. The model is read in blocks, never whole.
"""

from __future__ import annotations

import argparse
import json
import sys

from visiona_client import preflight
from visiona_client.visiona_cli import exit_codes


def _chip(value: str) -> str:
    try:
        return "KL" + preflight.chip_code(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "check",
        parents=[common],
        help="check an ONNX model for a chip before uploading it (offline)",
        description=(
            "Scan an ONNX model and report, for the chip, what stops its conversion "
            "(blockers) and what runs on the CPU or may go wrong (warnings). "
            "Exit 0 with warnings only, 2 on a blocker."
        ),
    )
    parser.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file")
    parser.add_argument(
        "--chip", required=True, type=_chip, help="KL520, KL720, KL530, KL630, KL730 (or 720)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    as_json = getattr(args, "json", False)
    try:
        summary = preflight.scan_file(args.model)
    except OSError as exc:
        message = f"cannot read {args.model}: {exc.strerror or exc}"
        if as_json:
            print(json.dumps({"error": {"code": "file_unreadable", "message": message}}))
        else:
            print(f"visiona check: {message}", file=sys.stderr)
        return exit_codes.BAD_INPUT
    report = preflight.check(summary, args.chip)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(preflight.format_report(report))
    return exit_codes.OK if report.ok else exit_codes.BAD_INPUT
