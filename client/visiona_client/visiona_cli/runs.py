"""``visiona runs``: the runs you made, and one run again (its figures, or following it).

    visiona runs [ls [--model MODEL] [--device DEVICE] [--state STATE] [--limit N]]
    visiona runs show RUN [--wait] [--timeout SECONDS] [--expect "cosine>=0.99"]

``visiona run`` that stopped waiting (``--timeout``, Ctrl-C) says the run goes on: this
follows it again, and ``show`` of an ended run prints what ``visiona run`` would have
printed, with the same exit codes (docs/cli.md). ``ls`` gives the ids
``rollout create --smoke-run`` takes.
"""

from __future__ import annotations

import argparse
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api
from visiona_client.visiona_cli.options import checked_uuid, positive_int
from visiona_client.visiona_cli.output import local_time
from visiona_client.visiona_cli.resolve import device_by_id_or_name, model_by_id_or_name
from visiona_client.visiona_cli.run import (
    FINAL,
    POLL_SECONDS,
    expectations_of,
    finish_run,
    wait_for_run,
)
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

STATES = ("pending", "running", *FINAL)
DEFAULT_LIMIT = 20
PAGE_SIZE = 100


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "runs", parents=[common], help="your runs; one run again (figures, or follow it)"
    )
    parser.set_defaults(func=run_ls, model=None, device=None, state=None, limit=DEFAULT_LIMIT)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("ls", parents=[common], help="newest first")
    ls.add_argument("--model", help="only this model's (id or name)")
    ls.add_argument("--device", help="only those on this device (id or name)")
    ls.add_argument("--state", choices=STATES)
    ls.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        help=f"how many (default {DEFAULT_LIMIT})",
    )
    ls.set_defaults(func=run_ls)
    show = actions.add_parser("show", parents=[common], help="one run: its figures")
    show.add_argument("run", help="its id (visiona runs ls)")
    show.add_argument("--wait", action="store_true", help="follow it until it ends")
    show.add_argument(
        "--expect", help='as for visiona run: e.g. "cosine>=0.99,top1>=0.98,p50_ms<=20"'
    )
    add_timeout_option(show)
    show.set_defaults(func=run_show, poll_seconds=POLL_SECONDS)


def run_ls(args: argparse.Namespace) -> int:
    api = api_for(args)
    params: dict[str, Any] = {"page_size": min(args.limit, PAGE_SIZE)}
    if args.model:
        params["model"] = model_by_id_or_name(api, args.model)["id"]
    if args.device:
        params["device"] = device_by_id_or_name(api, args.device)["id"]
    if args.state:
        params["state"] = args.state
    runs = _listed(api, params, args.limit)
    rows = [
        [
            r["id"],
            local_time(r["created_at"]),
            r["model"]["name"],
            r["device"]["name"],
            f"{r['state']} {r['inputs_done']}/{r['inputs_count']}",
            _figure((r.get("latency") or {}).get("p50_ms"), " ms", 3),
            _figure((r.get("agreement") or {}).get("cosine"), "", 4),
        ]
        for r in runs
    ]
    args.output.table(rows, ["RUN", "STARTED", "MODEL", "DEVICE", "STATE", "P50", "COSINE"])
    args.output.result({"runs": runs})
    return exit_codes.OK


def _listed(api: Api, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    page = api.get_json("/api/runs", params=params)
    while True:
        runs += page["results"]
        if len(runs) >= limit or not page.get("next"):
            return runs[:limit]
        page = api.get_json(page["next"])


def _figure(value: Any, unit: str, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def run_show(args: argparse.Namespace) -> int:
    expectations = expectations_of(args.expect)
    run_id = checked_uuid("run", args.run, listed_by="visiona runs ls")
    api = api_for(args)
    run = api.get_json(f"/api/runs/{run_id}")
    waiting = Waiting.of(args)
    if run["state"] not in FINAL and args.wait:
        run = wait_for_run(api, waiting, run, run["device"])
    if run["state"] in FINAL:
        return finish_run(api, args.output, waiting, run, expectations)
    args.output.say(
        f"Run {run['id']}: {run['state']} · {run['inputs_done']}/{run['inputs_count']} inputs"
    )
    args.output.note(f"Follow it with: visiona runs show {run['id']} --wait")
    args.output.result({"run": run})
    return exit_codes.OK
