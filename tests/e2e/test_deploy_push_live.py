"""A deployment made through the API reaches a connected demo agent, pushed through
the tunnel, and is installed with the right bytes: the real agent in its own process,
the real relay, the live server (PostgreSQL)."""

from __future__ import annotations

import pytest

from devices import tunnel_registry
from devices.models import Device
from tests.e2e.deployment_support import deploy, manifest, sha256_of, stored_bytes, wait_state
from tests.relay.conftest import wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The agent beats every 200 s: anything it does within the test came by the push.
SLOW_THRESHOLD_SECONDS = 600


def test_a_deployment_is_pushed_through_the_tunnel_and_installed(
    relay,
    agents,
    alice,
    alice_http,
    make_model,
    settings,
    tmp_path,
):
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = SLOW_THRESHOLD_SECONDS
    state_dir = agents.pair()
    device = Device.objects.latest("created_at")
    models_dir = tmp_path / "device-models"
    process = agents.run(state_dir, "--models-dir", str(models_dir))
    wait_connected(relay, str(device.pk))
    wait_for(lambda: tunnel_registry.lookup(str(device.pk)), timeout=10)
    wait_for(lambda: "heartbeat: " in process.log_path.read_text(), timeout=10)
    model = make_model(alice, "Person detector", chips=("KL720",), size=256 * 1024)

    created = deploy(alice_http, model.pk, str(device.pk))
    assert created.status_code == 201, created.text
    [result] = created.json()["results"]
    assert result["outcome"] == "created"
    # The next heartbeat is 200 s away: installed well before it (and no heartbeat
    # carried it, below), so the push did it. No figure asserted: bench/ measures.
    deployment = wait_state(result["deployment"]["id"], "installed", "failed", timeout=120)

    assert deployment.state == "installed", (deployment.error_code, deployment.error_message)
    assert process.log_path.read_text().count("heartbeat: ") == 1
    installed = models_dir / f"person-detector-{model.pk}.nef"
    assert installed.read_bytes() == stored_bytes(model)
    assert sha256_of(installed) == model.sha256
    [entry] = manifest(models_dir)
    assert entry["sha256"] == model.sha256
    assert entry["size_bytes"] == model.size_bytes
    assert entry["deployment_id"] == str(deployment.pk)
    assert entry["model_id"] == model.pk
    states = [event.state for event in deployment.events.order_by("at", "pk")]
    assert states[0] == "pending" and states[-1] == "installed"
    assert "downloading" in states and "verifying" in states

    # The demo lists it, read through the tunnel by its owner.
    listing = alice_http.get(f"/api/devices/{device.pk}/agent/api/models")
    assert listing.status_code == 200, listing.text
    assert listing.json()["demo"] is True
    assert [m["sha256"] for m in listing.json()["models"]] == [model.sha256]

    again = deploy(alice_http, model.pk, str(device.pk))
    assert again.status_code == 201, again.text
    assert again.json()["results"][0]["outcome"] == "already_installed"


@pytest.mark.parametrize(
    "path",
    [
        "_visiona/deployments/sync",
        "%5Fvisiona/deployments/sync",
        "%5fVISIONA/deployments/sync",
        "%2F_visiona/deployments/sync",
        "_visiona%2Fdeployments%2Fsync",
        "/_visiona/deployments/sync",
    ],
)
def test_users_cannot_reach_the_agents_own_paths(connected_agent, alice_http, path):
    wait_for(lambda: tunnel_registry.lookup(connected_agent.device_id), timeout=10)
    for method in ("get", "post"):
        answer = getattr(alice_http, method)(
            f"/api/devices/{connected_agent.device_id}/agent/{path}"
        )
        assert answer.status_code == 404, (method, path, answer.text)
    assert "_visiona" not in connected_agent.process.log_path.read_text()


def test_a_doubly_encoded_path_is_the_users_and_goes_to_the_local_api(connected_agent, alice_http):
    """``%255F`` is a literal ``%5F`` for the device: its local API answers, not the agent."""
    wait_for(lambda: tunnel_registry.lookup(connected_agent.device_id), timeout=10)
    answer = alice_http.post(
        f"/api/devices/{connected_agent.device_id}/agent/%255Fvisiona/deployments/sync"
    )
    assert answer.status_code != 202
    assert answer.json().get("demo") is True  # the demo device's own answer
    assert "/_visiona/" not in connected_agent.process.log_path.read_text()
