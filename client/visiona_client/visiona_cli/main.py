"""``visiona``'s argparse tree and the one place errors become exit codes.

Exit codes: exit_codes.py (0 ok, 1 failure reported by the server, 2 bad input,
3 auth, 4 server or network, 5 an expectation of visiona run failed, 130 interrupted).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from visiona_client import __version__, allocator
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import CliError
from visiona_client.visiona_cli.config import ConfigError
from visiona_client.visiona_cli.output import Output

# Each module has register(subparsers, common): ``common`` holds the options every
# command accepts after its name (--json, --server).
COMMANDS = (
    "login",
    "whoami",
    "convert",
    "check",
    "jobs",
    "models",
    "deploy",
    "devices",
    "run",
    "runs",
    "groups",
    "rollout",
    "cancel",
)


class _Parser(argparse.ArgumentParser):
    # Set by main() from its arguments: argparse refuses before --json is parsed, and
    # the refusal is still one JSON object on stdout (docs/cli.md).
    json_errors = False

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        if self.json_errors:
            usage = CliError(
                f"{self.prog}: {message}",
                exit_code=exit_codes.BAD_INPUT,
                code="usage",
                details={"usage": self.format_usage().strip()},
            )
            Output(as_json=True).result({"error": usage.to_dict()})
        self.exit(exit_codes.BAD_INPUT, f"{self.prog}: error: {message}\n")


def _common(parser: argparse.ArgumentParser, default: Any = None) -> None:
    # Accepted before and after the command; a subcommand's absent option must not
    # overwrite one given earlier, hence SUPPRESS below the root.
    parser.add_argument(
        "--json", action="store_true", default=default or False, help="one JSON object on stdout"
    )
    parser.add_argument(
        "--server", default=default, help="visionA's URL (default: the one from login)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="visiona", description="visionA Cloud from the command line.")
    parser.add_argument("--version", action="version", version=f"visiona {__version__}")
    _common(parser)
    common = _Parser(add_help=False)
    _common(common, default=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"visiona_client.visiona_cli.{name}")
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None, **injected: Any) -> int:
    """``injected``: test doubles handed to the command (e.g. ``checker=`` for convert)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in arguments
    parser = build_parser()
    args = parser.parse_args(arguments)
    for name, value in injected.items():
        setattr(args, name, value)
    output = Output(as_json=getattr(args, "json", False))
    args.output = output
    try:
        code: int = args.func(args)
        return code
    except CliError as error:
        return _failed(output, error)
    except ConfigError as error:
        return _failed(output, CliError(str(error), exit_code=exit_codes.BAD_INPUT))
    except OSError as error:
        # A local file or folder the command could not use: a message, not a traceback.
        where = f" ({error.filename})" if error.filename else ""
        message = f"{error.strerror or error}{where}"
        return _failed(output, CliError(message, exit_code=exit_codes.BAD_INPUT, code="os_error"))
    except KeyboardInterrupt:
        output.note("Interrupted.")
        output.result({"error": {"code": "interrupted", "exit_code": exit_codes.INTERRUPTED}})
        return exit_codes.INTERRUPTED


# The API's field names as the commands' options spell them, for visionA's
# validation_failed: which value was wrong, in the words the user typed. A field not
# here is shown as the API names it.
API_FIELD_OPTIONS = {
    "max_failure_percent": "--max-failures",
    "wait_seconds": "--wait-minutes (sent in seconds)",
    "smoke_run_id": "--smoke-run",
    "smoke_expect": "--expect",
    "smoke_min_cosine": "--smoke-min-cosine",
    "phases": "--phases",
    "created_after": "--since",
    "created_before": "--until",
    "platform": "--chip",
    "chip": "--chip",
    "chips": "--chip",
    "version": "--version",
    "repeat": "--repeat",
    "channel_order": "--channel-order",
    "scale": "--scale",
    "reason": "--reason",
    "inputs": "--inputs",
    "ref_images": "--images",
}


def _failed(output: Output, error: CliError) -> int:
    output.note(f"Error: {error.message}" + (f" ({error.code})" if error.code else ""))
    for line in _field_problems(error):
        output.note(f"  {line}")
    hint = error.details.get("hint") if isinstance(error.details, dict) else None
    if error.code == "token_scope_missing":
        hint = _scope_hint(error.details)
    if error.code == "active_job_exists":
        hint = _active_job_hint(error.details)
    if hint:
        output.note(f"Hint: {hint}")
    output.result({"error": error.to_dict()})
    return error.exit_code


def _field_problems(error: CliError) -> list[str]:
    """visionA's ``details.fields`` of a validation_failed, one line each: ``phases.0``
    reads "--phases (item 1)"."""
    fields = error.details.get("fields") if isinstance(error.details, dict) else None
    if error.code != "validation_failed" or not isinstance(fields, list):
        return []
    lines = []
    for problem in fields:
        if not isinstance(problem, dict):
            continue
        name, _, index = str(problem.get("field", "")).partition(".")
        where = API_FIELD_OPTIONS.get(name, name or "the request")
        if index.isdigit():
            where += f" (item {int(index) + 1})"
        lines.append(f"{where}: {problem.get('message', '')}")
    return lines


def _scope_hint(details: dict[str, Any]) -> str:
    """How to get the scope a token lacks: its scopes never change, so a new token.
    Built here from ``details`` too, so an older server's bare refusal says it."""
    required = details.get("required") or "?"
    where = details.get("tokens_url") or "the API tokens page of visionA"
    return (
        f"this command needs a token with the `{required}` scope. Create one at {where} "
        f"(tick `{required}`), then run `visiona login` with it, or set VISIONA_TOKEN."
    )


def _active_job_hint(details: dict[str, Any]) -> str | None:
    active = details.get("active_job")
    job_id = active.get("job_id") if isinstance(active, dict) else None
    if not job_id:
        return None
    return (
        f"follow it with `visiona jobs {job_id} --wait`, or stop it with "
        f"`visiona cancel job {job_id}`."
    )


def entry_point() -> None:
    # Uploads and downloads pass through 1 MiB buffers (requests-toolbelt's encoder
    # rewrites one for every block): with glibc's defaults each is a fresh mmap that
    # faults its pages in: 0.66 CPU-seconds per GiB in the encoder instead of 0.14.
    allocator.keep_large_blocks()
    sys.exit(main())
