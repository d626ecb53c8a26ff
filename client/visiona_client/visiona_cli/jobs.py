"""``visiona jobs``: your conversions (newest first), or one job, followed with --wait
and its NEF fetched with --download / --save."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.convert import chip_code
from visiona_client.visiona_cli.follow import (
    POLL_SECONDS,
    check_save_options,
    finish_job,
    job_line,
    wait_for_job,
)
from visiona_client.visiona_cli.options import positive_int
from visiona_client.visiona_cli.output import local_time
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.transfer import download_target
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

# The API's statuses, and cancelled: a failed job its user cancelled (error code
# cancelled), which ``--status failed`` lists too.
STATUSES = ("created", "running", "completed", "failed", "cancelled")
DEFAULT_LIMIT = 20


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "jobs", parents=[common], help="list your conversions, or follow one"
    )
    parser.add_argument("job_id", nargs="?", help="one job: show it (and follow it with --wait)")
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--chip", type=chip_code, help="only this chip (e.g. 720)")
    parser.add_argument(
        "--since",
        type=moment,
        metavar="DATE",
        help="started on or after: YYYY-MM-DD (midnight UTC) or an RFC 3339 time",
    )
    parser.add_argument(
        "--until",
        type=moment,
        metavar="DATE",
        help="started before: YYYY-MM-DD (midnight UTC, so that day is not included) "
        "or an RFC 3339 time",
    )
    parser.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        help=f"how many (default {DEFAULT_LIMIT})",
    )
    parser.add_argument("--wait", action="store_true", help="with JOB_ID: follow it until it ends")
    parser.add_argument(
        "--download",
        type=download_target,
        metavar="PATH",
        help="with JOB_ID: wait for it, then save its NEF here (a file, or a folder)",
    )
    parser.add_argument(
        "--save", metavar="NAME", help="with JOB_ID: wait for it, then save its NEF to My models"
    )
    parser.add_argument(
        "--keep-onnx", action="store_true", help="with --save: keep the ONNX beside the NEF"
    )
    add_timeout_option(parser)
    parser.set_defaults(func=run, poll_seconds=POLL_SECONDS)


def _refuse_options_that_would_be_ignored(args: argparse.Namespace) -> None:
    """``jobs --save NAME`` alone would list the jobs and save nothing: refused (exit 2)."""
    one_job = {
        "--wait": args.wait,
        "--download": args.download is not None,
        "--save": args.save is not None,
        "--keep-onnx": args.keep_onnx,
    }
    given = [flag for flag, is_given in one_job.items() if is_given]
    if given and not args.job_id:
        raise CliError(
            f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} a job: "
            "visiona jobs JOB_ID " + " ".join(given),
            exit_code=exit_codes.BAD_INPUT,
        )
    list_filters = {
        "--status": args.status is not None,
        "--chip": args.chip is not None,
        "--since": args.since is not None,
        "--until": args.until is not None,
        "--limit": args.limit != DEFAULT_LIMIT,
    }
    filters = [flag for flag, is_given in list_filters.items() if is_given]
    if args.job_id and filters:
        raise CliError(
            f"{', '.join(filters)}: for the list of jobs, not with a JOB_ID.",
            exit_code=exit_codes.BAD_INPUT,
        )
    if args.since and args.until and _instant(args.since) >= _instant(args.until):
        raise CliError(
            "--since must come before --until: no job could be in between.",
            exit_code=exit_codes.BAD_INPUT,
        )
    check_save_options(args.save, keep_onnx=args.keep_onnx)


def _instant(moment_text: str) -> datetime:
    return datetime.fromisoformat(moment_text)


def moment(raw: str) -> str:
    """YYYY-MM-DD (midnight UTC) or an RFC 3339 time, as the API takes it."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return f"{raw}T00:00:00Z"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", raw):
        raise ValueError(raw)
    return raw


moment.__name__ = "date"


def run(args: argparse.Namespace) -> int:
    _refuse_options_that_would_be_ignored(args)
    api = api_for(args)
    if args.job_id:
        job = api.get_json(f"/api/conversion/{args.job_id}")
        if args.wait or args.download or args.save is not None:
            job = wait_for_job(api, Waiting.of(args), job)
        return finish_job(
            api,
            args.output,
            job,
            download=args.download,
            save=args.save,
            keep_onnx=args.keep_onnx,
        )
    jobs = list_jobs(api, args)
    rows = [
        [j["job_id"], local_time(j["created_at"]), j["chip"], j["filename"], job_line(j)]
        for j in jobs
    ]
    args.output.table(rows, ["JOB", "STARTED", "CHIP", "MODEL", "STATUS"])
    args.output.result({"jobs": jobs})
    return exit_codes.OK


def list_jobs(api: Api, args: argparse.Namespace) -> list[dict[str, Any]]:
    limit = args.limit
    params = {"page_size": min(limit, 100)}
    for name, value in (
        ("status", args.status),
        ("platform", args.chip),
        ("created_after", args.since),
        ("created_before", args.until),
    ):
        if value:
            params[name] = value
    jobs: list[dict[str, Any]] = []
    url: str | None = "/api/conversion/"
    while url and len(jobs) < limit:
        page = api.get_json(url, params=params if url == "/api/conversion/" else None)
        jobs += page["results"]
        url = page.get("next")
    return jobs[:limit]
