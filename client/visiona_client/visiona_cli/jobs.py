"""``visiona jobs``: your conversions (newest first), or one job, followed with --wait
and its NEF fetched with --download / --save."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.convert import chip_code
from visiona_client.visiona_cli.follow import (
    KEEP_ONNX_ALONE,
    POLL_SECONDS,
    finish_job,
    job_line,
    wait_for_job,
)
from visiona_client.visiona_cli.output import local_time
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

# The API's statuses, and cancelled: a failed job its user cancelled (error code
# cancelled), which ``--status failed`` lists too.
STATUSES = ("created", "running", "completed", "failed", "cancelled")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "jobs", parents=[common], help="list your conversions, or follow one"
    )
    parser.add_argument("job_id", nargs="?", help="one job: show it (and follow it with --wait)")
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--chip", type=chip_code, help="only this chip (e.g. 720)")
    parser.add_argument("--since", type=moment, metavar="DATE", help="started on or after")
    parser.add_argument("--until", type=moment, metavar="DATE", help="started before")
    parser.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    parser.add_argument("--wait", action="store_true", help="with JOB_ID: follow it until it ends")
    parser.add_argument(
        "--download",
        type=Path,
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


def moment(raw: str) -> str:
    """YYYY-MM-DD (midnight UTC) or an RFC 3339 time, as the API takes it."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return f"{raw}T00:00:00Z"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", raw):
        raise ValueError(raw)
    return raw


moment.__name__ = "date"


def run(args: argparse.Namespace) -> int:
    if args.keep_onnx and args.save is None:
        raise CliError(KEEP_ONNX_ALONE, exit_code=exit_codes.BAD_INPUT)
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
    limit = max(1, args.limit)
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
