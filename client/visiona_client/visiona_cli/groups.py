"""``visiona groups``: name groups of your devices, fill them, roll them back.

    visiona groups [ls]
    visiona groups create NAME [--device D ...] [--chip KL720]
    visiona groups show GROUP
    visiona groups add GROUP [--device D ...] [--chip KL720]
    visiona groups remove GROUP --device D [--device D ...]
    visiona groups rename GROUP NEW_NAME
    visiona groups delete GROUP
    visiona groups rollback GROUP
    visiona groups pin GROUP [--reason TEXT]
    visiona groups unpin GROUP

GROUP is an id or a name; D a device's id or name.
"""

from __future__ import annotations

import argparse
from typing import Any

from visiona_client.visiona_cli import exit_codes, pins
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.output import Output, counted
from visiona_client.visiona_cli.resolve import device_by_id_or_name, group_by_id_or_name
from visiona_client.visiona_cli.session import api_for


def _chip(value: str) -> str:
    chip = value.upper()
    return chip if chip.startswith("KL") else f"KL{chip}"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("groups", parents=[common], help="groups of your devices")
    parser.set_defaults(func=run_ls)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("ls", parents=[common], help="list them").set_defaults(func=run_ls)
    create = actions.add_parser("create", parents=[common], help="make one")
    create.add_argument("name")
    _device_options(create)
    create.set_defaults(func=run_create)
    show = actions.add_parser("show", parents=[common], help="one group and its devices")
    show.add_argument("group", help="id or name")
    show.set_defaults(func=run_show)
    add = actions.add_parser("add", parents=[common], help="add devices")
    add.add_argument("group", help="id or name")
    _device_options(add)
    add.set_defaults(func=run_add)
    remove = actions.add_parser("remove", parents=[common], help="take devices out")
    remove.add_argument("group", help="id or name")
    remove.add_argument("--device", action="append", required=True, help="id or name")
    remove.set_defaults(func=run_remove)
    rename = actions.add_parser("rename", parents=[common], help="rename one")
    rename.add_argument("group", help="id or name")
    rename.add_argument("name")
    rename.set_defaults(func=run_rename)
    delete = actions.add_parser("delete", parents=[common], help="delete one (not its devices)")
    delete.add_argument("group", help="id or name")
    delete.set_defaults(func=run_delete)
    rollback = actions.add_parser(
        "rollback", parents=[common], help="each device back to the model it had before"
    )
    rollback.add_argument("group", help="id or name")
    rollback.set_defaults(func=run_rollback)
    pin = actions.add_parser(
        "pin", parents=[common], help="keep the group's devices out of every rollout"
    )
    pin.add_argument("group", help="id or name")
    pin.add_argument("--reason", default="", help="shown where rollouts leave them out")
    pin.set_defaults(func=run_pin)
    unpin = actions.add_parser("unpin", parents=[common], help="let rollouts include them again")
    unpin.add_argument("group", help="id or name")
    unpin.set_defaults(func=run_unpin)


def _device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", action="append", default=[], help="id or name (repeat)")
    parser.add_argument("--chip", type=_chip, help="and every device of yours with this chip")


def _device_ids(api: Api, refs: list[str]) -> list[str]:
    return [device_by_id_or_name(api, ref)["id"] for ref in refs]


def _print_group(out: Output, group: dict[str, Any]) -> None:
    out.say(f"{group['name']} ({group['id']}): {counted(group['device_count'], 'device')}")
    if group.get("pinned"):
        out.say(f"Pinned: {group['pin_reason'] or 'rollouts leave its devices out'}")
    if group.get("active_rollout"):
        out.say(f"Rollout under way: {group['active_rollout']}")
    rows = [
        [d["id"], d["name"], d["chip"], d["connection_status"], d["pin_reason"] or "pinned"]
        if d["pinned"]
        else [d["id"], d["name"], d["chip"], d["connection_status"], ""]
        for d in group.get("devices", [])
    ]
    out.table(rows, ["ID", "NAME", "CHIP", "CONNECTION", "PINNED"])


def run_ls(args: argparse.Namespace) -> int:
    groups = api_for(args).get_json("/api/groups")["groups"]
    rows = [
        [
            g["id"],
            g["name"],
            str(g["device_count"]),
            g["active_rollout"] or "-",
            (g["pin_reason"] or "pinned") if g.get("pinned") else "",
        ]
        for g in groups
    ]
    args.output.table(rows, ["ID", "NAME", "DEVICES", "ROLLOUT UNDER WAY", "PINNED"])
    args.output.result({"groups": groups})
    return exit_codes.OK


def run_create(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = api.post_json(
        "/api/groups", {"name": args.name, "device_ids": _device_ids(api, args.device)}
    )
    if args.chip:
        group = api.post_json(f"/api/groups/{group['id']}/devices/add", {"chip": args.chip})
    _print_group(args.output, group)
    args.output.result({"group": group})
    return exit_codes.OK


def run_show(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = api.get_json(f"/api/groups/{group_by_id_or_name(api, args.group)['id']}")
    _print_group(args.output, group)
    args.output.result({"group": group})
    return exit_codes.OK


def run_add(args: argparse.Namespace) -> int:
    if not args.device and not args.chip:
        raise CliError(
            "Nothing to add: give --device DEVICE (repeat it for more) or --chip CHIP.",
            exit_code=exit_codes.BAD_INPUT,
            code="usage",
        )
    api = api_for(args)
    group_id = group_by_id_or_name(api, args.group)["id"]
    body: dict[str, Any] = {"device_ids": _device_ids(api, args.device)}
    if args.chip:
        body["chip"] = args.chip
    group = api.post_json(f"/api/groups/{group_id}/devices/add", body)
    _print_group(args.output, group)
    args.output.result({"group": group})
    return exit_codes.OK


def run_remove(args: argparse.Namespace) -> int:
    api = api_for(args)
    group_id = group_by_id_or_name(api, args.group)["id"]
    body = {"device_ids": _device_ids(api, args.device)}
    group = api.post_json(f"/api/groups/{group_id}/devices/remove", body)
    _print_group(args.output, group)
    args.output.result({"group": group})
    return exit_codes.OK


def run_rename(args: argparse.Namespace) -> int:
    api = api_for(args)
    group_id = group_by_id_or_name(api, args.group)["id"]
    group = api.patch_json(f"/api/groups/{group_id}", {"name": args.name})
    args.output.note(f"Renamed to {group['name']}.")
    args.output.result({"group": group})
    return exit_codes.OK


def run_delete(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = group_by_id_or_name(api, args.group)
    api.delete(f"/api/groups/{group['id']}")
    args.output.note(f"Deleted the group {group['name']} (its devices are as they were).")
    args.output.result({"deleted": group})
    return exit_codes.OK


def run_rollback(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = group_by_id_or_name(api, args.group)
    # The answer names each device by id only: its name from the group's detail.
    members = api.get_json(f"/api/groups/{group['id']}").get("devices") or []
    names = {str(device["id"]): device.get("name") for device in members}
    results = api.post_json(f"/api/groups/{group['id']}/rollback")["results"]
    for result in results:
        deployment = result.get("deployment") or {}
        name = (deployment.get("device") or {}).get("name") or names.get(str(result["device_id"]))
        result["device_name"] = name or str(result["device_id"])
        if result["outcome"] == "sent":
            model = deployment["model"]["name"]
            args.output.note(f"{result['device_name']}: rolling back to {model}")
        else:
            args.output.note(f"{result['device_name']}: skipped: {result['message']}")
    sent = sum(1 for result in results if result["outcome"] == "sent")
    args.output.say(f"Rollbacks sent to {sent} of {counted(len(results), 'device')}.")
    args.output.result({"results": results})
    return exit_codes.OK


def run_pin(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = group_by_id_or_name(api, args.group)
    note = f"Pinned {group['name']}: rollouts leave its devices out."
    return pins.pin(args, api, f"/api/groups/{group['id']}", note)


def run_unpin(args: argparse.Namespace) -> int:
    api = api_for(args)
    group = group_by_id_or_name(api, args.group)
    note = f"Unpinned {group['name']}: rollouts include its devices again."
    return pins.unpin(args, api, f"/api/groups/{group['id']}", note)
