"""What the rollout tests share: a group of Alice's devices, agents' reports, the engine."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import group_services, rollout_engine, rollout_services, services
from deployments.models import Deployment, Rollout, RolloutTarget
from devices import services as device_services
from devices import tunnel_registry

# A relay node nobody runs: nudges to it fail at once (they are best effort), and the
# registry's entry is what makes a device connected (devices/presence.py).
NODE_URL = "http://127.0.0.1:9"


def connect(device) -> None:
    """The device's tunnel opens (a relay node registers it): it is online."""
    device.test_connection_id = uuid.uuid4().hex
    tunnel_registry.register(
        device_id=str(device.pk), node_url=NODE_URL, connection_id=device.test_connection_id
    )


def disconnect(device) -> None:
    """Its tunnel closes: offline, whatever its last heartbeat says."""
    for entry in [tunnel_registry.lookup(str(device.pk))]:
        if entry is not None:
            tunnel_registry.unregister(device_id=str(device.pk), connection_id=entry.connection_id)


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """``committing(call)``: run it and what it left for after the commit (the wake: the
    tests' immediate backend then advances the rollout at once, in the caller)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def fleet(alice, alice_devices):
    """``fleet(n)``: n new KL720 devices of Alice's, online, in a new group."""
    counter = iter(range(1, 1000))

    def make(n: int, *, chip: str = "KL720", online: bool = True):
        paired = alice_devices(n, chip=chip)
        devices = [result.device for result in paired]
        if online:
            for device in devices:
                device_services.device_heartbeat(device=device, agent_status="ready")
                connect(device)
        group = group_services.group_create(
            user=alice, name=f"lab {next(counter)}", device_ids=[d.pk for d in devices]
        )
        return group, devices

    return make


def report(device, deployment, *states: str, **fields) -> Deployment:
    """The agent's reports, in order (``installed`` alone means the whole road)."""
    if states == ("installed",):
        states = ("downloading", "verifying", "installed")
    for state in states:
        deployment = services.deployment_report(
            device=device, deployment_id=deployment.pk, state=state, **fields
        )
    return deployment


def fail(device, deployment, code: str = "install_failed") -> Deployment:
    return services.deployment_report(
        device=device,
        deployment_id=deployment.pk,
        state="failed",
        error_code=code,
        error_message="the disk said no",
    )


def targets(rollout: Rollout, phase: int | None = None) -> list[RolloutTarget]:
    queryset = RolloutTarget.objects.filter(rollout=rollout).select_related(
        "deployment", "device", "phase", "rollback"
    )
    if phase is not None:
        queryset = queryset.filter(phase__number=phase)
    return list(queryset.order_by("phase__number", "device__name"))


def fresh(rollout: Rollout) -> Rollout:
    return Rollout.objects.get(pk=rollout.pk)


def advance_at(rollout: Rollout, *, seconds_from_now: float) -> Rollout:
    """The worker's look at the rollout at a later time (a deadline passed)."""
    later = timezone.now() + timedelta(seconds=seconds_from_now)
    return rollout_engine.advance(rollout_id=rollout.pk, now=later)


def create(user, model, group, **options) -> Rollout:
    return rollout_services.rollout_create(
        user=user, model_id=model.pk, group_id=group.pk, **options
    )
