"""``visiona devices``: your paired devices; roll one back, pin or unpin it.

visiona devices [ls]          (with each one's pin, as rollouts see it)
visiona devices rollback DEVICE [--wait]
visiona devices pin DEVICE [--reason TEXT]
visiona devices unpin DEVICE
"""

from __future__ import annotations

import argparse
from typing import Any

from visiona_client.visiona_cli import exit_codes, pins
from visiona_client.visiona_cli.fleet_words import restored_from_words
from visiona_client.visiona_cli.output import local_time
from visiona_client.visiona_cli.resolve import device_by_id_or_name
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

POLL_SECONDS = 1.0
FINAL = ("installed", "failed", "cancelled")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("devices", parents=[common], help="your paired devices")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("ls", parents=[common], help="list them").set_defaults(func=run)
    rollback = actions.add_parser(
        "rollback", parents=[common], help="bring back the model it had before"
    )
    rollback.add_argument("device", help="id or name")
    rollback.add_argument("--wait", action="store_true", help="follow it until installed")
    add_timeout_option(rollback)
    rollback.set_defaults(func=run_rollback, poll_seconds=POLL_SECONDS)
    pin = actions.add_parser("pin", parents=[common], help="keep it out of rollouts")
    pin.add_argument("device", help="id or name")
    pin.add_argument("--reason", default="", help="shown where rollouts leave it out")
    pin.set_defaults(func=run_pin)
    unpin = actions.add_parser("unpin", parents=[common], help="let rollouts include it again")
    unpin.add_argument("device", help="id or name")
    unpin.set_defaults(func=run_unpin)


def run(args: argparse.Namespace) -> int:
    api = api_for(args)
    devices = api.get_json("/api/devices/")["devices"]
    rows = [
        [
            d["id"],
            d["name"],
            d["chip"],
            d["connection_status"],
            local_time(d["last_seen_at"]),
            pin_column(d),
        ]
        for d in devices
    ]
    args.output.table(rows, ["ID", "NAME", "CHIP", "CONNECTION", "LAST SEEN", "PINNED"])
    args.output.result({"devices": devices})
    return exit_codes.OK


def pin_column(device: dict[str, Any]) -> str:
    """Why rollouts leave the device out: its pin's reason ("pinned" without one), or the
    pinned group it is in; empty when neither (or a server too old to say)."""
    if device.get("pinned"):
        return str(device.get("pin_reason") or "pinned")
    group = device.get("pinned_with_group")
    if group:
        reason = device.get("pin_reason")
        return f"with group {group}" + (f": {reason}" if reason else "")
    return ""


def run_rollback(args: argparse.Namespace) -> int:
    api = api_for(args)
    device = device_by_id_or_name(api, args.device)
    rollback = api.post_json(f"/api/devices/{device['id']}/rollback")
    args.output.note(
        f"Rollback {rollback['id']}: {device['name']} back to {rollback['model']['name']}."
    )
    waiting = Waiting.of(args)
    again = (
        f"It shows on the device's page (deployment {rollback['id']}); "
        f"stop it with: visiona cancel deployment {rollback['id']}"
    )
    try:
        while args.wait and rollback["state"] not in FINAL:
            waiting.note_if_offline(api, device, waiting_for=rollback["state"] == "pending")
            waiting.pause(
                still=f"rollback {rollback['id']} is {rollback['state']}", follow_again=again
            )
            rollback = waiting.get_json(
                api, f"/api/deployments/{rollback['id']}", follow_again=again
            )
    except KeyboardInterrupt:
        args.output.note(
            f"Stopped following. Rollback {rollback['id']} goes on on the server; "
            f"to stop it: visiona cancel deployment {rollback['id']}"
        )
        raise
    args.output.result({"deployment": rollback})
    if rollback["state"] in ("failed", "cancelled"):
        args.output.note(f"The rollback {rollback['state']}: {rollback['error_message']}")
        return exit_codes.FAILURE
    source = rollback.get("restored_from")
    brought = f": brought back from {restored_from_words(source)}" if source else ""
    args.output.say(f"{rollback['id']} {rollback['state']}{brought}")
    return exit_codes.OK


def run_pin(args: argparse.Namespace) -> int:
    api = api_for(args)
    device = device_by_id_or_name(api, args.device)
    note = f"Pinned {device['name']}: rollouts leave it out."
    return pins.pin(args, api, f"/api/devices/{device['id']}", note)


def run_unpin(args: argparse.Namespace) -> int:
    api = api_for(args)
    device = device_by_id_or_name(api, args.device)
    note = f"Unpinned {device['name']}: rollouts include it again."
    return pins.unpin(args, api, f"/api/devices/{device['id']}", note)
