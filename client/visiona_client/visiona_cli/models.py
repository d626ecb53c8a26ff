"""``visiona models ls|download|rm``: your NEF models in My models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.output import human_bytes
from visiona_client.visiona_cli.resolve import model_by_id_or_name
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.transfer import download_target, download_to, into_folder


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("models", parents=[common], help="your NEF models")
    parser.set_defaults(func=run_ls, chip=None)  # as devices and groups: ls by default
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("ls", parents=[common], help="list them")
    ls.add_argument("--chip", help="only models for this chip (e.g. KL720)")
    ls.set_defaults(func=run_ls)
    download = actions.add_parser("download", parents=[common], help="download one")
    download.add_argument("model", help="id or name")
    download.add_argument(
        "-o",
        "--output",
        dest="path",
        type=download_target,
        help="a file, or a folder to save NAME.nef in (default: NAME.nef here)",
    )
    download.set_defaults(func=run_download)
    rm = actions.add_parser("rm", parents=[common], help="delete one")
    rm.add_argument("model", help="id or name")
    rm.set_defaults(func=run_rm)


def run_ls(args: argparse.Namespace) -> int:
    api = api_for(args)
    params: dict[str, Any] = {"page_size": 100}
    if args.chip:
        chip = args.chip.upper()
        params["chip"] = chip if chip.startswith("KL") else f"KL{chip}"
    models: list[dict[str, Any]] = []
    url: str | None = "/api/models/"
    while url:
        page = api.get_json(url, params=params if url == "/api/models/" else None)
        models += page["results"]
        url = page.get("next")
    rows = [
        [str(m["id"]), m["name"], ",".join(m["chips"]), human_bytes(m["size_bytes"]), m["source"]]
        for m in models
    ]
    args.output.table(rows, ["ID", "NAME", "CHIPS", "SIZE", "SOURCE"])
    args.output.result({"models": models})
    return exit_codes.OK


def run_download(args: argparse.Namespace) -> int:
    api = api_for(args)
    model = model_by_id_or_name(api, args.model)
    target = into_folder(args.path or Path("."), f"{model['name']}.nef")
    url = api.url(f"/api/models/{model['id']}/download")
    done = download_to(api.http, args.output, url, target)
    args.output.note(f"Saved {model['name']} to {target} ({done} bytes).")
    args.output.result({"model": model, "path": str(target), "size_bytes": done})
    return exit_codes.OK


def run_rm(args: argparse.Namespace) -> int:
    api = api_for(args)
    model = model_by_id_or_name(api, args.model)
    api.delete(f"/api/models/{model['id']}")
    args.output.note(f"Deleted {model['name']} (id {model['id']}).")
    args.output.result({"deleted": model})
    return exit_codes.OK
