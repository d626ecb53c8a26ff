"""What deployments add to devices (registered in DeploymentsConfig.ready() through
devices/registry.py, since devices imports no app above it): the work list in the
heartbeat answer, the cancel when a device is unpaired, the device page's history, and
a device's pin in the device list (page and API)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import serializers

from deployments import (
    failures,
    group_selectors,
    push,
    rollback_services,
    run_selectors,
    run_services,
    selectors,
    services,
)
from deployments.api.serializers import WorkItemSerializer, work_items
from devices import registry
from devices.models import Device

# The device page shows this many of its latest deployments.
DEPLOYMENT_HISTORY_LENGTH = 20


def heartbeat_fields() -> dict[str, serializers.Field]:
    return {
        "deployments": WorkItemSerializer(
            many=True,
            help_text="Unfinished deployments to this device, oldest first (at most 20).",
        )
    }


def heartbeat_values(*, device: Device) -> dict[str, Any]:
    # The pull: work reaches the agent even without a tunnel.
    return {"deployments": work_items(selectors.deployment_work_for_device(device=device))}


def runs_heartbeat_fields() -> dict[str, serializers.Field]:
    return {
        "runs_waiting": serializers.IntegerField(
            help_text="Unfinished runs on this device: the agent lists them (GET /api/agent/runs)."
        )
    }


def runs_heartbeat_values(*, device: Device) -> dict[str, Any]:
    return {"runs_waiting": run_selectors.run_waiting_count(device=device)}


def runs_context(*, request: HttpRequest, device: Device) -> dict[str, Any]:
    runs = run_selectors.run_list_for_user(user=request.user, device_id=device.pk)
    return {"runs": runs[:DEPLOYMENT_HISTORY_LENGTH], "runs_device": device}


def history_context(*, request: HttpRequest, device: Device) -> dict[str, Any]:
    deployments = selectors.deployment_list_for_user(user=request.user, device_id=device.pk)
    # Each failure explained, with Retry where deploying again can help.
    return {"deployments": failures.annotate(list(deployments[:DEPLOYMENT_HISTORY_LENGTH]))}


def fleet_context(*, request: HttpRequest, device: Device) -> dict[str, Any]:
    """The device page's "Groups, pin and rollback": what a rollback would bring back."""
    plan = rollback_services.rollback_plan(device=device)
    return {
        "fleet": {
            "groups": list(group_selectors.groups_of_device(device=device)),
            "pin": group_selectors.pin_of_device(device=device),
            "current": plan.undo,
            "restore": plan.restore,
            "rollback_refusal": str(plan.error.message) if plan.error is not None else "",
        }
    }


def pin_marks(*, devices) -> dict[str, list[registry.DeviceMark]]:
    """The word "Pinned" beside each pinned device in the device list: by its own pin (with its
    reason) or its group's (with the group's name), as rollouts leave it out."""
    marks = {}
    for device_id, (code, reason) in group_selectors.rollout_pins(devices=devices).items():
        if code == "group_pinned":
            group, _newline, why = reason.partition("\n")
            detail = (
                _("With the group %(group)s: %(reason)s") % {"group": group, "reason": why}
                if why
                else _("With the group %(group)s") % {"group": group}
            )
        else:
            detail = reason
        marks[device_id] = [registry.DeviceMark(_("Pinned"), "pinned", detail)]
    return marks


def pin_api_fields() -> dict[str, serializers.Field]:
    return {
        "pinned": serializers.BooleanField(
            help_text="Pinned itself (visiona devices pin): rollouts leave it out."
        ),
        "pin_reason": serializers.CharField(
            allow_blank=True, help_text="Its pin's reason, or the pinned group's; else empty."
        ),
        "pinned_with_group": serializers.CharField(
            allow_null=True,
            help_text="Not pinned itself but in a pinned group (rollouts leave it out too): "
            "that group's name (the first by name); else null.",
        ),
    }


def pin_api_values(*, devices) -> dict[str, dict[str, Any]]:
    """Whether each device is pinned, or left out of rollouts by a pinned group."""
    pins = group_selectors.rollout_pins(devices=devices)
    values = {}
    for device in devices:
        code, reason = pins.get(str(device.pk), ("", ""))
        group, _newline, why = (
            reason.partition("\n") if code == "group_pinned" else ("", "", reason)
        )
        values[str(device.pk)] = {
            "pinned": code == "pinned",
            "pin_reason": why,
            "pinned_with_group": group or None,
        }
    return values


def register() -> None:
    registry.register_heartbeat_part(
        "deployments", fields=heartbeat_fields, values=heartbeat_values
    )
    registry.register_unpair_step("deployments", services.deployments_cancel_for_device)
    registry.register_device_page_section(
        "deployments",
        template="deployments/_deployment_history.html",
        context=history_context,
    )
    registry.register_heartbeat_part(
        "runs", fields=runs_heartbeat_fields, values=runs_heartbeat_values
    )
    registry.register_device_page_section(
        "runs", template="deployments/_run_history.html", context=runs_context
    )
    registry.register_unpair_step("runs", run_services.runs_cancel_for_device)
    # A device that reconnects is told of the work made while it was away.
    registry.register_work_finder(
        "deployments", find=selectors.devices_with_unfinished_work, path="/" + push.PUSH_PATH
    )
    registry.register_work_finder(
        "runs",
        find=run_selectors.devices_with_unfinished_runs,
        path="/" + run_services.RUNS_PUSH_PATH,
    )
    registry.register_device_page_section(
        "fleet", template="deployments/_device_fleet.html", context=fleet_context, order=90
    )
    registry.register_device_list_marks("pins", pin_marks)
    registry.register_device_api_part("pins", fields=pin_api_fields, values=pin_api_values)
