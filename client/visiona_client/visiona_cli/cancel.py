"""``visiona cancel job|run|deployment ID``: stop what goes on on visionA.

    visiona cancel job JOB_ID             a conversion
    visiona cancel run RUN_ID             a run on a device
    visiona cancel deployment ID          a deployment, or a device's rollback

Exit 0 once visionA took the cancel; 1 when it had already finished (nothing changed:
its state is said) or the converter cannot cancel (``cancel_not_supported``); 2 for
an unknown id; 3 and 4 as for every command.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.follow import job_line
from visiona_client.visiona_cli.options import checked_uuid
from visiona_client.visiona_cli.session import api_for

# The server's job ids (conversion/limits.py JOB_ID_PATTERN); runs and deployments: UUIDs.
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Kind:
    noun: str  # "Job", as the CLI's messages name it
    path: str  # the object's API path, with {id}
    finished_code: str  # visionA's 409 when it has already finished

    def state(self, answer: dict[str, Any]) -> str:
        return job_line(answer) if self.noun == "Job" else str(answer["state"])


KINDS = {
    "job": Kind("Job", "/api/conversion/{id}", "job_not_cancellable"),
    "run": Kind("Run", "/api/runs/{id}", "run_finished"),
    "deployment": Kind("Deployment", "/api/deployments/{id}", "deployment_finished"),
}
_HELP = {
    "job": "a conversion (visiona jobs)",
    "run": "a run on a device (visiona run)",
    "deployment": "a deployment or a device's rollback (visiona deploy, devices rollback)",
}


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "cancel", parents=[common], help="cancel a conversion, a run or a deployment"
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for name, help_text in _HELP.items():
        kind = kinds.add_parser(name, parents=[common], help=help_text)
        kind.add_argument("id", help=f"the {name}'s id")
        kind.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    object_id = _checked_id(args.kind, args.id)
    api = api_for(args)
    path = kind.path.format(id=object_id)
    try:
        answer = api.post_json(f"{path}/cancel")
    except CliError as error:
        if error.code == kind.finished_code:
            raise _already_finished(api, kind, object_id, path, error) from None
        if error.code == "cancel_not_supported":
            error.exit_code = exit_codes.FAILURE  # a refusal: trying again will not help
        raise
    state = kind.state(answer)
    if state == "cancelled":
        args.output.note(f"{kind.noun} {object_id} cancelled.")
    else:
        args.output.note(f"{kind.noun} {object_id}: cancel sent; it is {state} for now.")
    args.output.say(f"{object_id} {state}")
    args.output.result({args.kind: answer})
    return exit_codes.OK


def _checked_id(kind: str, raw: str) -> str:
    """The id as visionA's paths take it; anything else is refused before a request."""
    if kind != "job":
        return checked_uuid(kind, raw)
    if _JOB_ID.fullmatch(raw):
        return raw
    raise CliError(
        f"Not a {kind} id: {raw!r}.", exit_code=exit_codes.BAD_INPUT, code=f"{kind}_not_found"
    )


def _already_finished(api: Api, kind: Kind, object_id: str, path: str, error: CliError) -> CliError:
    """visionA's 409, with the state it finished in (asked; its own message otherwise)."""
    try:
        state = kind.state(api.get_json(path))
    except (CliError, KeyError):
        return error
    error.message = (
        f"{kind.noun} {object_id} has already finished ({state}): nothing was cancelled."
    )
    error.details = {**error.details, "state": state}
    return error
