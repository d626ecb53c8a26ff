"""Creating deployments: one per device, chip check first, no duplicates, already installed."""

from __future__ import annotations

import uuid

import pytest

from deployments import services
from deployments.choices import DeploymentState
from deployments.errors import DeploymentChipMismatch
from deployments.models import Deployment, DeploymentEvent
from devices.choices import Chip
from devices.errors import DeviceNotFound
from models_repo.errors import ModelNotFound

pytestmark = pytest.mark.django_db


def create(user, model, devices):
    return services.deployments_create(
        user=user, model_id=model.pk, device_ids=[str(d.device.pk) for d in devices]
    )


def test_one_pending_deployment_per_device_with_its_first_event(alice, alice_kl720, alice_devices):
    devices = alice_devices(3)
    results = create(alice, alice_kl720, devices)
    assert [r.outcome for r in results] == ["created"] * 3
    assert [r.device.pk for r in results] == [d.device.pk for d in devices]
    for result in results:
        deployment = result.deployment
        assert deployment.state == DeploymentState.PENDING
        assert (deployment.sha256, deployment.size_bytes) == (
            alice_kl720.sha256,
            alice_kl720.size_bytes,
        )
        assert deployment.created_by == alice
        assert list(deployment.events.values_list("state", flat=True)) == ["pending"]
    assert Deployment.objects.count() == 3


def test_a_device_named_twice_gets_one_deployment(alice, alice_kl720, alice_device):
    results = create(alice, alice_kl720, [alice_device, alice_device])
    assert len(results) == 1
    assert Deployment.objects.count() == 1


def test_a_chip_mismatch_refuses_every_device_and_creates_nothing(
    alice, alice_kl720, alice_devices
):
    good = alice_devices(2)
    wrong = alice_devices(1, chip=Chip.KL520)
    with pytest.raises(DeploymentChipMismatch) as refused:
        create(alice, alice_kl720, [*good, *wrong])
    assert refused.value.status == 400
    assert refused.value.details == {
        "devices": [{"id": str(wrong[0].device.pk), "name": wrong[0].device.name, "chip": "KL520"}],
        "model_chips": ["KL720"],
    }
    assert not Deployment.objects.exists()
    assert not DeploymentEvent.objects.exists()


def test_a_model_for_several_chips_goes_to_each(alice, make_model, alice_devices):
    model = make_model(alice, chips=("KL520", "KL720"))
    results = create(alice, model, [*alice_devices(1), *alice_devices(1, chip=Chip.KL520)])
    assert [r.outcome for r in results] == ["created", "created"]


def test_an_unfinished_deployment_of_the_model_is_returned_not_duplicated(
    alice, alice_kl720, alice_device
):
    first = create(alice, alice_kl720, [alice_device])[0].deployment
    services.deployment_report(
        device=alice_device.device, deployment_id=first.pk, state="downloading", bytes_done=10
    )
    again = create(alice, alice_kl720, [alice_device])[0]
    assert again.outcome == "already_in_progress"
    assert again.deployment.pk == first.pk
    assert Deployment.objects.count() == 1


def install(device, deployment):
    for state in ("downloading", "verifying", "installed"):
        services.deployment_report(device=device, deployment_id=deployment.pk, state=state)


def test_the_same_sha256_last_installed_is_already_installed(
    alice, alice_kl720, make_model, alice_device
):
    device = alice_device.device
    first = create(alice, alice_kl720, [alice_device])[0].deployment
    install(device, first)
    again = create(alice, alice_kl720, [alice_device])[0]
    assert again.outcome == "already_installed"
    assert again.deployment.pk == first.pk
    assert Deployment.objects.count() == 1
    # Once another model was installed since, the first is sent again.
    other = make_model(alice, "other", chips=("KL720",), size=2000)
    install(device, create(alice, other, [alice_device])[0].deployment)
    assert create(alice, alice_kl720, [alice_device])[0].outcome == "created"


def test_a_failed_or_cancelled_deployment_does_not_block_a_new_one(
    alice, alice_kl720, alice_device
):
    first = create(alice, alice_kl720, [alice_device])[0].deployment
    services.deployment_report(
        device=alice_device.device, deployment_id=first.pk, state="failed", error_code="too_large"
    )
    second = create(alice, alice_kl720, [alice_device])[0]
    assert second.outcome == "created"
    services.deployment_cancel(user=alice, deployment_id=second.deployment.pk)
    assert create(alice, alice_kl720, [alice_device])[0].outcome == "created"


def test_another_users_model_or_device_is_not_found(
    alice, bob, alice_kl720, alice_device, make_model, issue_code, pair
):
    bobs_device = pair(issue_code(bob).code, serial="BOB-1")
    with pytest.raises(ModelNotFound):
        create(bob, alice_kl720, [bobs_device])
    with pytest.raises(DeviceNotFound):
        create(alice, alice_kl720, [alice_device, bobs_device])
    with pytest.raises(DeviceNotFound):
        services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[str(uuid.uuid4())]
        )
    assert not Deployment.objects.exists()


def test_an_unpaired_device_cannot_be_deployed_to_and_its_work_is_cancelled(
    alice, alice_kl720, alice_device
):
    from devices import services as device_services

    deployment = create(alice, alice_kl720, [alice_device])[0].deployment
    device_services.device_unpair(device=alice_device.device)
    deployment.refresh_from_db()
    assert deployment.state == DeploymentState.CANCELLED
    assert deployment.finished_at is not None
    with pytest.raises(DeviceNotFound):
        create(alice, alice_kl720, [alice_device])
