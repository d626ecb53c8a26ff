"""The agent's reports move a deployment only along the documented states."""

from __future__ import annotations

import pytest

from deployments import services
from deployments.choices import DeploymentState
from deployments.errors import (
    DeploymentCancelled,
    DeploymentFinished,
    DeploymentInvalidTransition,
)
from visiona.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):
    return services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def report(device, deployment, state, **values):
    return services.deployment_report(
        device=device, deployment_id=deployment.pk, state=state, **values
    )


def states(deployment):
    return list(deployment.events.values_list("state", flat=True))


def test_the_whole_way_is_recorded_once_per_change(alice_device, deployment):
    device = alice_device.device
    report(device, deployment, "downloading", bytes_done=0, bytes_total=deployment.size_bytes)
    for done in (1000, 50_000, 200_000):
        updated = report(device, deployment, "downloading", bytes_done=done)
        assert updated.bytes_done == done
    report(device, deployment, "verifying")
    installed = report(device, deployment, "installed")
    assert installed.state == DeploymentState.INSTALLED
    assert installed.bytes_done == deployment.size_bytes
    assert installed.finished_at is not None
    assert states(deployment) == ["pending", "downloading", "verifying", "installed"]
    times = list(deployment.events.values_list("at", flat=True))
    assert times == sorted(times)


def test_a_restart_may_report_downloading_again_after_verifying(alice_device, deployment):
    device = alice_device.device
    report(device, deployment, "downloading", bytes_done=10)
    report(device, deployment, "verifying")
    resumed = report(device, deployment, "downloading", bytes_done=100)
    assert resumed.state == DeploymentState.DOWNLOADING
    assert states(deployment) == ["pending", "downloading", "verifying", "downloading"]


def test_pending_may_fail_at_once_with_its_code_and_message(alice_device, deployment):
    failed = report(
        alice_device.device,
        deployment,
        "failed",
        error_code="chip_mismatch",
        error_message="The attached dongle is a KL520." + "x" * 600,
    )
    assert failed.state == DeploymentState.FAILED
    assert failed.error_code == "chip_mismatch"
    assert len(failed.error_message) == 500
    event = deployment.events.last()
    assert (event.state, event.error_code) == ("failed", "chip_mismatch")


@pytest.mark.parametrize(
    ("path", "state"),
    [
        ([], "verifying"),
        ([], "installed"),
        (["downloading"], "installed"),
    ],
)
def test_skipping_a_state_is_an_invalid_transition(alice_device, deployment, path, state):
    for step in path:
        report(alice_device.device, deployment, step)
    with pytest.raises(DeploymentInvalidTransition) as refused:
        report(alice_device.device, deployment, state)
    assert refused.value.status == 409
    deployment.refresh_from_db()
    assert deployment.state == (path[-1] if path else "pending")


def test_a_final_state_again_is_idempotent_another_is_finished(alice_device, deployment):
    device = alice_device.device
    report(device, deployment, "failed", error_code="download_failed")
    again = report(device, deployment, "failed", error_code="download_failed")
    assert again.state == "failed"
    assert states(deployment) == ["pending", "failed"]
    with pytest.raises(DeploymentFinished):
        report(device, deployment, "downloading")


def test_a_cancelled_deployment_refuses_every_report(alice, alice_device, deployment):
    services.deployment_cancel(user=alice, deployment_id=deployment.pk)
    for state in ("downloading", "verifying", "installed", "failed"):
        with pytest.raises(DeploymentCancelled):
            report(alice_device.device, deployment, state)
    deployment.refresh_from_db()
    assert deployment.state == "cancelled"
    assert states(deployment) == ["pending", "cancelled"]


def test_cancel_twice_is_finished(alice, deployment):
    services.deployment_cancel(user=alice, deployment_id=deployment.pk)
    with pytest.raises(DeploymentFinished):
        services.deployment_cancel(user=alice, deployment_id=deployment.pk)


def test_another_device_cannot_report_on_it(alice, deployment, issue_code, pair):
    other = pair(issue_code(alice).code, serial="ALICE-OTHER")
    with pytest.raises(NotFound):
        report(other.device, deployment, "downloading")
    deployment.refresh_from_db()
    assert deployment.state == "pending"


def test_more_bytes_done_than_total_is_refused(alice_device, deployment):
    with pytest.raises(ValidationFailed):
        report(alice_device.device, deployment, "downloading", bytes_done=10, bytes_total=5)
    deployment.refresh_from_db()
    assert (deployment.state, deployment.bytes_done) == ("pending", 0)
