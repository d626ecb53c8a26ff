"""Rolling a device back: the server's record says what it had; the agent's work item
says what to bring back and what to take off."""

from __future__ import annotations

import pytest

from deployments import rollback_services
from deployments.models import Deployment
from deployments.rollout_choices import DeploymentKind
from deployments.rollout_errors import NothingToRollBack, RollbackInProgress
from deployments.services import deployments_create
from devices.errors import DeviceNotFound
from tests.deployments.rollout_support import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(alice, make_model):
    return (
        make_model(alice, "detector v1", chips=("KL720",), size=2000),
        make_model(alice, "detector v2", chips=("KL720",), size=3000),
    )


def install(user, model, device) -> Deployment:
    (result,) = deployments_create(user=user, model_id=model.pk, device_ids=[device.pk])
    return report(device, result.deployment, "installed")


def work_item(agent, deployment_id) -> dict:
    items = agent.get("/api/agent/deployments").json()["deployments"]
    return next(item for item in items if item["id"] == str(deployment_id))


def test_it_brings_back_the_model_installed_before(alice, alice_device, models, agent_client):
    device = alice_device.device
    old, new = models
    first = install(alice, old, device)
    second = install(alice, new, device)
    assert second.previous_id == first.pk

    rollback = rollback_services.device_rollback(user=alice, device_id=device.pk)

    assert (rollback.kind, rollback.model_id, rollback.sha256, rollback.size_bytes) == (
        DeploymentKind.ROLLBACK,
        old.pk,
        old.sha256,
        old.size_bytes,
    )
    assert rollback.rolls_back_id == second.pk
    item = work_item(agent_client(alice_device.token), rollback.pk)
    assert item["kind"] == "rollback"
    assert item["model"]["sha256"] == old.sha256
    assert item["rollback"] == {"remove": {"model_id": new.pk, "sha256": new.sha256}}
    assert item["download_url"] == f"/api/agent/deployments/{rollback.pk}/file"

    report(device, rollback, "installed", restored_from="kept_copy")
    rollback.refresh_from_db()
    assert (rollback.state, rollback.restored_from, rollback.previous_id) == (
        "installed",
        "kept_copy",
        second.pk,
    )


def test_rolling_back_a_rollback_brings_back_what_it_took_off(
    alice, alice_device, models, agent_client
):
    device = alice_device.device
    old, new = models
    install(alice, old, device)
    install(alice, new, device)
    rollback = rollback_services.device_rollback(user=alice, device_id=device.pk)
    report(device, rollback, "installed", restored_from="in_place")

    again = rollback_services.device_rollback(user=alice, device_id=device.pk)

    assert (again.model_id, again.rolls_back_id) == (new.pk, rollback.pk)
    item = work_item(agent_client(alice_device.token), again.pk)
    assert item["rollback"] == {"remove": None}  # what the rollback restored stays


def test_nothing_before_is_refused(alice, alice_device, models):
    device = alice_device.device
    with pytest.raises(NothingToRollBack):
        rollback_services.device_rollback(user=alice, device_id=device.pk)
    install(alice, models[0], device)
    with pytest.raises(NothingToRollBack) as refused:
        rollback_services.device_rollback(user=alice, device_id=device.pk)
    assert "detector v1" in str(refused.value.message)
    assert Deployment.objects.filter(kind=DeploymentKind.ROLLBACK).count() == 0


def test_one_rollback_at_a_time(alice, alice_device, models):
    device = alice_device.device
    install(alice, models[0], device)
    install(alice, models[1], device)
    rollback_services.device_rollback(user=alice, device_id=device.pk)
    with pytest.raises(RollbackInProgress):
        rollback_services.device_rollback(user=alice, device_id=device.pk)
    assert Deployment.objects.filter(kind=DeploymentKind.ROLLBACK).count() == 1


def test_another_users_device_is_not_found(alice, bob, alice_device, models):
    install(alice, models[0], alice_device.device)
    install(alice, models[1], alice_device.device)
    with pytest.raises(DeviceNotFound):
        rollback_services.device_rollback(user=bob, device_id=alice_device.device.pk)


def test_a_restored_from_on_an_install_is_ignored(alice, alice_device, models):
    deployment = install(alice, models[0], alice_device.device)
    (result,) = deployments_create(
        user=alice, model_id=models[1].pk, device_ids=[alice_device.device.pk]
    )
    report(alice_device.device, result.deployment, "installed", restored_from="kept_copy")
    result.deployment.refresh_from_db()
    assert result.deployment.restored_from == ""
    assert deployment.restored_from == ""
