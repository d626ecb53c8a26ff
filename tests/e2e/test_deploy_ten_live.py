"""One model to ten devices at once: ten demo agents, each in its own process."""

from __future__ import annotations

import pytest

from deployments.models import Deployment
from devices.models import Device
from tests.e2e.deployment_support import deploy, sha256_of, wait_state
from tests.relay.conftest import wait_connected

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = 10


def test_one_model_to_ten_devices_at_once(relay, agents, alice, alice_http, make_model):
    state_dirs = [agents.pair(serial=f"DEMO-FLEET-{n:02}") for n in range(COUNT)]
    devices = {str(device.pk): device for device in Device.objects.all()}
    assert len(devices) == COUNT
    for state_dir in state_dirs:
        agents.run(state_dir)
    for device_id in devices:
        wait_connected(relay, device_id, timeout=60)
    model = make_model(alice, "Fleet detector", chips=("KL720",), size=1024 * 1024)

    created = deploy(alice_http, model.pk, *devices)
    assert created.status_code == 201, created.text
    results = created.json()["results"]
    assert sorted(r["device_id"] for r in results) == sorted(devices)
    assert {r["outcome"] for r in results} == {"created"}
    for result in results:
        deployment = wait_state(result["deployment"]["id"], "installed", "failed", timeout=120)
        assert deployment.state == "installed", deployment.error_message
    assert Deployment.objects.count() == COUNT
    for state_dir in state_dirs:
        assert sha256_of(state_dir / "models" / f"fleet-detector-{model.pk}.nef") == model.sha256
