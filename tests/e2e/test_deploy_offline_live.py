"""A device whose agent is not running gets its deployment when the agent starts."""

from __future__ import annotations

import pytest

from devices.models import Device
from tests.e2e.deployment_support import deploy, manifest, sha256_of, wait_state

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_offline_device_gets_its_deployment_when_the_agent_starts(
    relay,
    agents,
    alice,
    alice_http,
    make_model,
):
    state_dir = agents.pair()  # paired, then not running
    device = Device.objects.latest("created_at")
    model = make_model(alice, "Offline detector", chips=("KL720",), size=128 * 1024)
    created = deploy(alice_http, model.pk, str(device.pk))
    assert created.status_code == 201, created.text
    deployment_id = created.json()["results"][0]["deployment"]["id"]
    assert wait_state(deployment_id, "pending").state == "pending"

    agents.run(state_dir)
    deployment = wait_state(deployment_id, "installed", "failed", timeout=60)
    assert deployment.state == "installed", deployment.error_message
    installed = state_dir / "models" / f"offline-detector-{model.pk}.nef"
    assert sha256_of(installed) == model.sha256
    assert [entry["deployment_id"] for entry in manifest(state_dir / "models")] == [deployment_id]
