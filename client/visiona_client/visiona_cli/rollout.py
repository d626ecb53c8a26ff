"""``visiona rollout``: a saved model to a group of devices in phases, followed to its end.

    visiona rollout create MODEL --group GROUP [--phases 1,20%,rest] [--max-failures 10]
                                 [--wait-minutes 30]
                                 [--smoke-run RUN [--expect "cosine>=0.99,top1>=0.98"]
                                  [--smoke-min-cosine C]] [--wait]
    visiona rollout ls [--group GROUP]
    visiona rollout show ROLLOUT [--wait]
    visiona rollout pause|resume|retry|rollback ROLLOUT [--wait]

With ``--wait`` the command follows the rollout until it stops moving, then its exit
code says how it ended: 0 completed with every phase passed (for ``rollback``: rolled
back with every rollback installed; for ``pause``: paused), 1 paused when that was not
what was asked (the reason is printed), completed with a phase accepted (resumed past
after it failed: it did not pass its gate), a rollback that failed somewhere, or rolled
back when that was not what was asked. The rollout goes on on the server whatever the
command does: Ctrl-C only stops following it. Human lines say states in words
(fleet_words.py); ``--json`` keeps the API's codes.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.fleet_words import (
    phase_state_words,
    restored_from_words,
    state_words,
)
from visiona_client.visiona_cli.options import checked_uuid
from visiona_client.visiona_cli.output import Output, api_time, counted, local_time
from visiona_client.visiona_cli.resolve import group_by_id_or_name, model_by_id_or_name
from visiona_client.visiona_cli.run import expectations_of
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

POLL_SECONDS = 2.0
MOVING = ("running", "rolling_back")
ACTIONS = ("pause", "resume", "retry", "rollback")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "rollout", parents=[common], help="a model to a group of devices in phases"
    )
    parser.set_defaults(func=run_ls, group=None)  # as devices and groups: ls by default
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", parents=[common], help="start one")
    create.add_argument("model", help="the model's id or name")
    create.add_argument("--group", required=True, help="the group's id or name")
    create.add_argument(
        "--phases", help="comma-separated: N devices, N%% of them, rest (default 1,20%%,rest)"
    )
    create.add_argument(
        "--max-failures", type=int, help="a phase with a larger share (%%) failed pauses it"
    )
    create.add_argument(
        "--wait-minutes", type=int, help="how long a phase waits for offline devices"
    )
    create.add_argument(
        "--smoke-run", help="a completed run of the model: each device runs its inputs first"
    )
    create.add_argument(
        "--expect",
        help="with --smoke-run: what each smoke run must reach, as for visiona run "
        '(e.g. "cosine>=0.99,top1>=0.98,p90_ms<=20")',
    )
    create.add_argument(
        "--smoke-min-cosine",
        type=float,
        help='with --smoke-run: the least cosine (e.g. 0.99); older form of --expect "cosine>=X"',
    )
    create.add_argument("--wait", action="store_true", help="follow it to its end")
    add_timeout_option(create)
    create.set_defaults(func=run_create, poll_seconds=POLL_SECONDS)
    ls = actions.add_parser("ls", parents=[common], help="your rollouts, newest first")
    ls.add_argument("--group", help="only this group's (id or name)")
    ls.set_defaults(func=run_ls)
    show = actions.add_parser("show", parents=[common], help="one rollout: phases, devices")
    show.add_argument("rollout", help="its id")
    show.add_argument("--wait", action="store_true", help="follow it to its end")
    add_timeout_option(show)
    show.set_defaults(func=run_show, poll_seconds=POLL_SECONDS)
    for name in ACTIONS:
        action = actions.add_parser(name, parents=[common], help=f"{name} a rollout")
        action.add_argument("rollout", help="its id")
        action.add_argument("--wait", action="store_true", help="follow it to its end")
        add_timeout_option(action)
        action.set_defaults(func=run_action, verb=name, poll_seconds=POLL_SECONDS)


def run_create(args: argparse.Namespace) -> int:
    if args.expect and not args.smoke_run:
        raise CliError("--expect needs --smoke-run", exit_code=exit_codes.BAD_INPUT)
    api = api_for(args)
    model = model_by_id_or_name(api, args.model)
    group = group_by_id_or_name(api, args.group)
    body: dict[str, Any] = {"model_id": model["id"], "group_id": group["id"]}
    if args.phases:
        body["phases"] = [part.strip() for part in args.phases.split(",") if part.strip()]
    if args.max_failures is not None:
        body["max_failure_percent"] = args.max_failures
    if args.wait_minutes is not None:
        body["wait_seconds"] = args.wait_minutes * 60
    if args.smoke_run:
        body["smoke_run_id"] = args.smoke_run
    if args.smoke_min_cosine is not None:
        body["smoke_min_cosine"] = args.smoke_min_cosine
    if args.expect:
        expectations_of(args.expect)  # a bad one stops here (exit 2), as for visiona run
        body["smoke_expect"] = args.expect
    rollout = api.post_json("/api/rollouts", body)
    args.output.note(
        f"Rollout {rollout['id']}: {model['name']} to {group['name']} in "
        f"{counted(len(rollout['phases']), 'phase')}."
    )
    return _finish(args, api, rollout, goal="completed")


def run_ls(args: argparse.Namespace) -> int:
    api = api_for(args)
    params: dict[str, Any] = {"page_size": 100}
    if args.group:
        params["group"] = group_by_id_or_name(api, args.group)["id"]
    rollouts = api.get_json("/api/rollouts", params=params)["results"]
    rows = [
        [
            r["id"],
            r["model"]["name"],
            r["group"]["name"],
            state_words(r["state"]),
            f"{r['counts']['passed']}/{r['counts']['total']}",
            local_time(r["created_at"]),
        ]
        for r in rollouts
    ]
    args.output.table(rows, ["ID", "MODEL", "GROUP", "STATE", "PASSED", "CREATED"])
    args.output.result({"rollouts": rollouts})
    return exit_codes.OK


def run_show(args: argparse.Namespace) -> int:
    api = api_for(args)
    rollout_id = checked_uuid("rollout", args.rollout, listed_by="visiona rollout ls")
    rollout = api.get_json(f"/api/rollouts/{rollout_id}")
    return _finish(args, api, rollout, goal="completed")


def run_action(args: argparse.Namespace) -> int:
    api = api_for(args)
    rollout_id = checked_uuid("rollout", args.rollout, listed_by="visiona rollout ls")
    rollout = api.post_json(f"/api/rollouts/{rollout_id}/{args.verb}")
    state = state_words(rollout["state"])
    args.output.note(f"Rollout {rollout['id']}: {args.verb} asked; it is {state}.")
    # What the action asks for: a pause is done once paused (what was sent goes on, and
    # resume or retry follow it again); the others end when the rollout does.
    goal = {"rollback": "rolled_back", "pause": "paused"}.get(args.verb, "completed")
    return _finish(args, api, rollout, goal=goal)


def _finish(args: argparse.Namespace, api: Api, rollout: dict[str, Any], *, goal: str) -> int:
    if args.wait:
        rollout = _follow(api, Waiting.of(args), rollout)
    _print(args.output, rollout)
    args.output.result({"rollout": rollout})
    if not args.wait:
        return exit_codes.OK
    return _exit_code(args.output, rollout, goal)


def _exit_code(out: Output, rollout: dict[str, Any], goal: str) -> int:
    state = rollout["state"]
    if state == goal == "paused":
        out.note("The rollout is paused: no further phase starts until you resume.")
        return exit_codes.OK
    if state == "paused":
        out.note(f"The rollout is paused: {rollout['pause']['message']}")
        return exit_codes.FAILURE
    if state != goal:
        out.note(f"The rollout ended {state_words(state)}.")
        return exit_codes.FAILURE
    failed = [
        d
        for d in rollout.get("devices", [])
        if (goal == "rolled_back" and _rollback_state(d) == "failed")
        or (goal == "completed" and d["state"] == "failed")
    ]
    if failed and goal == "rolled_back":
        out.note(f"{counted(len(failed), 'device')} could not roll back.")
        return exit_codes.FAILURE
    failures = f"{counted(len(failed), 'device')} failed" if failed else ""
    accepted = [phase for phase in rollout.get("phases", []) if phase["state"] == "accepted"]
    if goal == "completed" and accepted:
        # The user resumed past a failed phase: completed, but not as the gate asked.
        said = ", and ".join(_accepted(rollout, phase) for phase in accepted)
        out.note(f"Completed; {failures + ', and ' if failures else ''}{said}.")
        return exit_codes.FAILURE
    if failed:
        out.note(f"Completed; {failures}, within the allowed share.")
    return exit_codes.OK


def _accepted(rollout: dict[str, Any], phase: dict[str, Any]) -> str:
    """Why a phase the rollout was resumed past had failed, from its counts."""
    counts = phase.get("counts") or {}
    judged = counts.get("total", 0) - counts.get("skipped", 0)
    failed, allowed = counts.get("failed", 0), rollout.get("max_failure_percent", 0)
    said = f"phase {phase['number']} was accepted"
    if judged and failed * 100 > allowed * judged:
        said += (
            f" over the failure limit ({failed} of {counted(judged, 'device')} failed, "
            f"more than the {allowed} % allowed)"
        )
    elif judged and not counts.get("passed", 0):
        said += " with no device confirming the model"
    else:
        said += " despite failures"
    return said + " when the rollout was resumed"


def _rollback_state(device: dict[str, Any]) -> str:
    rollback = device.get("rollback") or {}
    deployment = rollback.get("deployment") or {}
    return str(deployment.get("state", ""))


def _follow(api: Api, waiting: Waiting, rollout: dict[str, Any]) -> dict[str, Any]:
    """Follow the rollout every poll interval until it stops moving (or --timeout), a
    line on stderr at each change; a failed poll is tried again (visiona_cli/waiting.py)."""
    out = waiting.out
    again = f"Follow it again with: visiona rollout show {rollout['id']} --wait"
    last = ""
    try:
        while True:
            counts = rollout["counts"]
            line = (
                f"{state_words(rollout['state'])}: {counts['passed']} passed, "
                f"{counts['failed']} failed, "
                f"{counts['deploying'] + counts['checking']} under way, "
                f"{counts['offline']} offline, {counts['planned']} to come"
            )
            line += _deadline_note(rollout)
            if line != last:
                out.note(f"Rollout {rollout['id']}: {line}")
                last = line
            if rollout["state"] not in MOVING:
                return rollout
            waiting.pause(
                still=f"rollout {rollout['id']} is {state_words(rollout['state'])}",
                follow_again=again,
            )
            rollout = waiting.get_json(api, f"/api/rollouts/{rollout['id']}", follow_again=again)
    except KeyboardInterrupt:
        out.note(
            f"Stopped following. Rollout {rollout['id']} goes on on the server "
            f"({state_words(rollout['state'])}); follow it again with: visiona rollout show "
            f"{rollout['id']} --wait"
        )
        raise


def _deadline_note(rollout: dict[str, Any]) -> str:
    """What the running phase waits for, and its deadline (not what is left of it: a
    line is printed at each change)."""
    for phase in rollout["phases"]:
        if phase["state"] == "running" and phase.get("deadline_at"):
            number, at = phase["number"], _utc(phase["deadline_at"])
            return f"; phase {number} {_waiting_for(rollout, phase)} (deadline {at})"
    return ""


def _waiting_for(rollout: dict[str, Any], phase: dict[str, Any]) -> str:
    """What a running phase waits for: its devices yet to take the model (offline, or
    not answering: at the deadline they stop holding it up), installing, or being
    checked (still waiting at the deadline, they fail). From its devices when the
    answer has them, else from its counts."""
    devices = [d for d in rollout.get("devices") or [] if d.get("phase") == phase["number"]]
    counts = phase.get("counts") or {}
    deploying = [d for d in devices if d["state"] == "deploying"]
    yet = sum(1 for d in deploying if (d.get("deployment") or {}).get("state") == "pending")
    parts = [
        (count, label)
        for count, label in (
            (yet, "yet to take the model"),
            (len(deploying) - yet, "installing"),
            # Without the devices: taken or not, what is under way.
            (0 if devices else counts.get("deploying", 0), "under way"),
            (sum(d["state"] == "checking" for d in devices), "being checked"),
            (0 if devices else counts.get("checking", 0), "being checked"),
        )
        if count
    ]
    if not parts:
        return "waits for its devices"
    (first, label), *others = parts
    said = [f"{counted(first, 'device')} {label}", *(f"{n} {what}" for n, what in others)]
    return "waits for " + ", ".join(said)


def _print(out: Output, rollout: dict[str, Any]) -> None:
    out.say(
        f"{rollout['id']} {state_words(rollout['state'])}: {rollout['model']['name']} to "
        f"{rollout['group']['name']}"
    )
    if rollout.get("pause"):
        out.say(f"Paused: {rollout['pause']['message']}")
    for phase in rollout["phases"]:
        counts = phase["counts"]
        out.say(
            f"  phase {phase['number']} ({phase['size']}): {phase_state_words(phase['state'])}, "
            f"{counts['passed']}/{counts['total']} passed, {counts['failed']} failed"
            f"{_deadline(rollout, phase, now=datetime.now(timezone.utc))}"
        )
    rows = [
        [
            d["device"]["name"],
            str(d["phase"] or "-"),
            state_words(d["state"]),
            (d["rollback"] or {}).get("state", "") and _rollback_label(d),
            d["reason"],
        ]
        for d in rollout.get("devices", [])
    ]
    if rows:
        out.table(rows, ["DEVICE", "PHASE", "STATE", "ROLLBACK", "REASON"])


def _deadline(rollout: dict[str, Any], phase: dict[str, Any], *, now: datetime) -> str:
    """What a running phase waits for, its deadline, and what is left of it."""
    if phase["state"] != "running" or not phase.get("deadline_at"):
        return ""
    deadline = api_time(phase["deadline_at"])
    at, waits = _utc(phase["deadline_at"]), _waiting_for(rollout, phase)
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return (
            f"; {waits} (deadline {at} passed: devices that had not taken the model no "
            "longer hold it up)"
        )
    return f"; {waits} (deadline {at}, {_duration(seconds)} left)"


def _utc(moment: str) -> str:
    """A deadline as ``rollout show`` and ``--wait`` print it: to the second, in UTC."""
    try:
        return api_time(moment).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return moment


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _rollback_label(device: dict[str, Any]) -> str:
    rollback = device["rollback"]
    if rollback["state"] == "skipped":
        return "skipped"
    state = state_words(_rollback_state(device))
    source = rollback.get("restored_from")
    return f"{state} (from {restored_from_words(source)})" if source else state
