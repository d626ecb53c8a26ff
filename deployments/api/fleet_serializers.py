"""What the groups, pins and rollouts APIs show (docs/deployments.md, "The API")."""

from __future__ import annotations

from rest_framework import serializers

from deployments import rollout_selectors, rollout_texts
from deployments.api.serializers import DeploymentOutputSerializer
from deployments.choices import DeploymentState
from deployments.rollout_choices import (
    PhaseState,
    RestoredFrom,
    RollbackState,
    RolloutState,
    TargetState,
)
from deployments.rollout_models import Rollout, RolloutTarget
from visiona.chips import Chip

# Groups and pins -----------------------------------------------------------------


class PinSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    pinned = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    pinned_at = serializers.DateTimeField(allow_null=True)


class GroupPinSerializer(serializers.Serializer):
    group_id = serializers.UUIDField()
    pinned = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    pinned_at = serializers.DateTimeField(allow_null=True)


class GroupDeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    chip = serializers.ChoiceField(choices=Chip.choices)
    connection_status = serializers.CharField(help_text="online or offline")
    pinned = serializers.BooleanField()
    pin_reason = serializers.CharField(allow_blank=True)


class GroupSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    device_count = serializers.IntegerField(help_text="Its paired devices.")
    active_rollout = serializers.UUIDField(
        allow_null=True, help_text="The rollout under way (running, paused or rolling back)."
    )
    pinned = serializers.BooleanField(
        help_text="Every device of the group is left out of rollouts, of any group."
    )
    pin_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GroupDetailSerializer(GroupSerializer):
    devices = GroupDeviceSerializer(many=True)


def _connection_status(device) -> str:
    """Its presence as a list already looked it up (``presence.with_presence``, one
    registry lookup for all), else asked for this device alone."""
    known = getattr(device, "presence", None)
    return str(known.status) if known is not None else str(device.connection_status())


def group_data(group, *, devices=None, pins=None, active=None) -> dict:
    """A group as the API shows it; with ``devices`` (and their ``pins``), its detail."""
    pin = getattr(group, "pin", None)  # none: the reverse one-to-one raises AttributeError
    data = {
        "id": group.pk,
        "name": group.name,
        "device_count": getattr(group, "device_count", 0),
        "active_rollout": active.pk if active is not None else None,
        "pinned": pin is not None,
        "pin_reason": pin.reason if pin is not None else "",
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }
    if devices is not None:
        pins = pins or {}
        data["devices"] = [
            {
                "id": device.pk,
                "name": device.name,
                "chip": device.chip,
                "connection_status": _connection_status(device),
                "pinned": str(device.pk) in pins,
                "pin_reason": pins[str(device.pk)].reason if str(device.pk) in pins else "",
            }
            for device in devices
        ]
    return data


class GroupRollbackResultSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    outcome = serializers.ChoiceField(
        choices=["sent", "skipped"], help_text="sent: a rollback deployment was made."
    )
    code = serializers.CharField(allow_blank=True, help_text="Why not, when skipped.")
    message = serializers.CharField(allow_blank=True)
    deployment = DeploymentOutputSerializer(allow_null=True)


class GroupRollbackSerializer(serializers.Serializer):
    results = GroupRollbackResultSerializer(many=True)


# Rollouts ------------------------------------------------------------------------


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    skipped = serializers.IntegerField()
    planned = serializers.IntegerField()
    deploying = serializers.IntegerField()
    checking = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    offline = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class RolloutPhaseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    size = serializers.CharField(help_text='As asked: "3", "20%" or "rest".')
    state = serializers.ChoiceField(choices=PhaseState.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    deadline_at = serializers.DateTimeField(
        allow_null=True, help_text="Devices not taking the model by then stop holding it up."
    )
    finished_at = serializers.DateTimeField(allow_null=True)
    counts = CountsSerializer()


class PauseSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["phase_failed", "phase_unconfirmed", "by_user"])
    message = serializers.CharField()
    details = serializers.DictField(
        help_text="phase, max_failure_percent, and failed and count or offline and count."
    )


class RolloutModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField()
    chips = serializers.ListField(child=serializers.CharField())


class RolloutGroupSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="Null once the group is deleted.")
    name = serializers.CharField()


class RolloutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=RolloutState.choices)
    model = RolloutModelSerializer()
    group = RolloutGroupSerializer()
    max_failure_percent = serializers.IntegerField()
    wait_seconds = serializers.IntegerField()
    smoke_run = serializers.UUIDField(
        allow_null=True,
        help_text="The run whose inputs each device's smoke run takes (null once deleted).",
    )
    smoke_gate = serializers.BooleanField(
        help_text="Made with a smoke run: each device must pass one. Stays true when that "
        "run is deleted; devices still to come then fail with smoke_inputs_gone.",
    )
    smoke_min_cosine = serializers.FloatField(allow_null=True)
    smoke_expect = serializers.CharField(
        allow_blank=True,
        help_text='What each smoke run must reach, e.g. "cosine>=0.99,top1>=0.98" (empty: '
        "only that it completes, and smoke_min_cosine when set).",
    )
    pause = PauseSerializer(allow_null=True, help_text="Why it is paused; null otherwise.")
    counts = CountsSerializer()
    rollback_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="sent and skipped, once rolled back."
    )
    phases = RolloutPhaseSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class TargetDeploymentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=DeploymentState.choices)
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField(allow_null=True)
    error_code = serializers.CharField(allow_blank=True)
    error_message = serializers.CharField(allow_blank=True)


class RestoredModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField(help_text="What the device must end up with.")


class TargetRollbackSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=[c for c in RollbackState.choices if c[0]])
    code = serializers.CharField(allow_blank=True, help_text="Why none was sent.")
    message = serializers.CharField(allow_blank=True)
    deployment = TargetDeploymentSerializer(allow_null=True)
    model = RestoredModelSerializer(allow_null=True, help_text="The model brought back.")
    restored_from = serializers.ChoiceField(choices=[("", ""), *RestoredFrom.choices])


class RolloutDeviceSerializer(serializers.Serializer):
    device = GroupDeviceSerializer()
    phase = serializers.IntegerField(allow_null=True, help_text="Null when skipped.")
    state = serializers.ChoiceField(choices=TargetState.choices)
    reason_code = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    deployment = TargetDeploymentSerializer(allow_null=True)
    smoke_run = serializers.UUIDField(allow_null=True, help_text="Its smoke run, once made.")
    rollback = TargetRollbackSerializer(allow_null=True, help_text="Once rolled back.")


class RolloutDetailSerializer(RolloutSerializer):
    devices = RolloutDeviceSerializer(many=True)


def _model(model, chips: list[str] | None = None) -> dict:
    chips = model.chips if chips is None else chips
    return {"id": model.pk, "name": model.name, "sha256": model.sha256, "chips": chips}


def rollout_data(rollout: Rollout) -> dict:
    """The rollout as the API shows it (from rollout_selectors); ``devices`` when the
    rollout was read with them (rollout_get_for_user)."""
    counts = rollout_selectors.counts(rollout)
    chips = rollout.model.chips  # one query, not one per device
    data = {
        "id": rollout.pk,
        "state": rollout.state,
        "model": _model(rollout.model, chips),
        "group": {"id": rollout.group_id, "name": rollout.group_name},
        "max_failure_percent": rollout.max_failure_percent,
        "wait_seconds": rollout.wait_seconds,
        "smoke_run": rollout.smoke_run_id,
        "smoke_gate": rollout.smoke_gate,
        "smoke_min_cosine": rollout.smoke_min_cosine,
        "smoke_expect": rollout.smoke_expect,
        "pause": _pause(rollout),
        "counts": counts.as_dict(),
        "rollback_counts": dict(counts.rollback),
        "phases": [
            {
                "number": phase.number,
                "size": phase.size,
                "state": phase.state,
                "started_at": phase.started_at,
                "deadline_at": phase.deadline_at,
                "finished_at": phase.finished_at,
                "counts": rollout_selectors.counts(rollout, phase_id=phase.pk).as_dict(),
            }
            for phase in rollout.phases.all()
        ],
        "created_at": rollout.created_at,
        "updated_at": rollout.updated_at,
        "finished_at": rollout.finished_at,
    }
    rows = getattr(rollout, "device_rows", None)
    if rows is not None:
        data["devices"] = [_device(rollout, target, chips) for target in rows]
    return data


def _pause(rollout: Rollout) -> dict | None:
    if rollout.state != RolloutState.PAUSED:
        return None
    return {
        "code": rollout.pause_code,
        "message": rollout_texts.pause_message(rollout),
        "details": rollout.pause_details,
    }


def _deployment(deployment) -> dict | None:
    if deployment is None:
        return None
    return {
        "id": deployment.pk,
        "state": deployment.state,
        "bytes_done": deployment.bytes_done,
        "bytes_total": deployment.bytes_total,
        "error_code": deployment.error_code,
        "error_message": deployment.error_message,
    }


def _device(rollout: Rollout, target: RolloutTarget, chips: list[str]) -> dict:
    device = target.device
    rollback = None
    if target.rollback_state:
        restored = target.rollback
        rollback = {
            "state": target.rollback_state,
            "code": target.rollback_code,
            "message": rollout_texts.rollback_reason(target),
            "deployment": _deployment(restored),
            "model": (
                {"id": restored.model_id, "name": restored.model.name, "sha256": restored.sha256}
                if restored is not None
                else None
            ),
            "restored_from": restored.restored_from if restored is not None else "",
        }
    return {
        "device": {
            "id": device.pk,
            "name": device.name,
            "chip": device.chip,
            "connection_status": _connection_status(device),
            "pinned": target.reason_code in ("pinned", "group_pinned"),
            "pin_reason": _pin_reason(target),
        },
        "phase": target.phase.number if target.phase is not None else None,
        "state": target.state,
        "reason_code": target.reason_code,
        "reason": rollout_texts.target_reason(target, model_chips=chips),
        "deployment": _deployment(target.deployment),
        "smoke_run": target.smoke_run_id,
        "rollback": rollback,
    }


def _pin_reason(target) -> str:
    """The pin's own words: a device's, or (after the group's name) its group's."""
    if target.reason_code == "pinned":
        return target.reason
    if target.reason_code == "group_pinned":
        return target.reason.partition("\n")[2]
    return ""
