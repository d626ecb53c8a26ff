"""``visiona deploy MODEL --device DEVICE [--wait]``: send a model from My models to a
device (the deployments API), and with --wait follow it until installed or failed."""

from __future__ import annotations

import argparse
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, outcome_error
from visiona_client.visiona_cli.options import Once
from visiona_client.visiona_cli.output import Output, human_bytes
from visiona_client.visiona_cli.resolve import device_by_id_or_name, model_by_id_or_name
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

POLL_SECONDS = 1.0
SEVERAL_DEVICES = (
    "for several devices, put them in a group (visiona groups create NAME --device A "
    "--device B) and use visiona rollout create MODEL --group NAME"
)
FINAL = ("installed", "failed", "cancelled")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser("deploy", parents=[common], help="send a model to a device")
    parser.add_argument("model", help="the model's id or name (visiona models ls)")
    parser.add_argument(
        "--device",
        required=True,
        action=Once,
        several=SEVERAL_DEVICES,
        help="the device's id or name (one; for several, a group and visiona rollout)",
    )
    parser.add_argument("--wait", action="store_true", help="follow it until it is installed")
    add_timeout_option(parser)
    parser.set_defaults(func=run, poll_seconds=POLL_SECONDS)


def run(args: argparse.Namespace) -> int:
    out = args.output
    api = api_for(args)
    model = model_by_id_or_name(api, args.model)
    device = device_by_id_or_name(api, args.device)
    body = api.post_json(
        "/api/deployments", {"model_id": model["id"], "device_ids": [device["id"]]}
    )
    result = body["results"][0]
    deployment = result["deployment"]
    out.note(
        f"Deployment {deployment['id']}: {model['name']} to {device['name']} "
        f"({result['outcome'].replace('_', ' ')}, {deployment['state']})."
    )
    if args.wait and deployment["state"] not in FINAL:
        deployment = wait_for_deployment(api, Waiting.of(args), deployment, device)
    if deployment["state"] in ("failed", "cancelled"):
        note_not_installed(out, deployment)
        out.result(
            {
                "outcome": result["outcome"],
                "deployment": deployment,
                "error": deployment_error(deployment),
            }
        )
        return exit_codes.FAILURE
    out.result({"outcome": result["outcome"], "deployment": deployment})
    out.say(f"{deployment['id']} {deployment['state']}")
    return exit_codes.OK


def deployment_error(deployment: dict[str, Any]) -> dict[str, Any]:
    """The ``error`` of a deployment that ended failed or cancelled (also ``convert
    --run-on``): deployment_failed / deployment_cancelled, with the device's code."""
    state = deployment["state"]
    reason = deployment.get("error_message") or state
    return outcome_error(
        f"deployment_{state}",
        f"The deployment {state}: {reason}",
        details={"deployment_id": deployment["id"], "error_code": deployment.get("error_code")},
    )


def note_not_installed(out: Output, deployment: dict[str, Any]) -> None:
    """Why a deployment ended failed or cancelled, on stderr (also ``convert --run-on``)."""
    message = deployment.get("error_message") or deployment["state"]
    code = deployment.get("error_code") or ""
    suffix = f" ({code})" if code else ""
    failure = deployment.get("failure") or {}
    if failure.get("summary"):
        # visionA's explanation first (what happened, what to do), then the device's words.
        out.note(f"The deployment failed: {failure['summary']} {failure.get('next_step', '')}")
        out.note(f"The device reported: {message}{suffix}")
    else:
        out.note(f"The deployment {deployment['state']}: {message}{suffix}")


def wait_for_deployment(
    api: Api, waiting: Waiting, deployment: dict[str, Any], device: dict[str, Any]
) -> dict[str, Any]:
    """Follow the deployment every poll interval until it is installed, failed or
    cancelled (or --timeout), noting each new state (and the download's progress) on
    stderr, and once that the device is offline; its last answer. Also
    ``convert --run-on``'s deploy step."""
    out = waiting.out
    again = (
        "Follow it again with: visiona deploy "
        f"{deployment['model']['id']} --device {deployment['device']['id']} --wait; "
        f"stop it with: visiona cancel deployment {deployment['id']}"
    )
    last = ""
    try:
        while deployment["state"] not in FINAL:
            waiting.note_if_offline(api, device, waiting_for=deployment["state"] == "pending")
            waiting.pause(
                still=f"deployment {deployment['id']} is {deployment['state']}",
                follow_again=again,
                details={"deployment_id": deployment["id"], "state": deployment["state"]},
            )
            deployment = waiting.get_json(
                api, f"/api/deployments/{deployment['id']}", follow_again=again
            )
            line = deployment["state"]
            if deployment["state"] == "downloading" and deployment.get("bytes_total"):
                line += (
                    f" {human_bytes(deployment.get('bytes_done') or 0)}"
                    f" / {human_bytes(deployment['bytes_total'])}"
                )
            if line != last:
                out.note(f"Deployment {deployment['id']}: {line}")
                last = line
    except KeyboardInterrupt:
        out.note(
            f"Stopped following. Deployment {deployment['id']} goes on on the server "
            f"({deployment['state']}); the device installs it when it next checks in. "
            f"To stop it: visiona cancel deployment {deployment['id']}"
        )
        raise
    return deployment
