"""A three-phase rollout to 20 real demo agents, through the relay, driven by the
background worker in its own process.

Two agents refuse installs (``--demo-refuse-installs``): the second phase fails past its
allowed share and the rollout pauses, saying why. They are restarted as ordinary agents,
their devices retried, and the rollout completes. Then it is rolled back: every device
gets back the model it had before, checked through its tunnel (the local API's list,
with the digests) and on its disk; one device whose kept copy was damaged downloads the
model again instead.
"""

from __future__ import annotations

import pytest

from deployments.models import Deployment, RolloutTarget
from models_repo import services as model_services
from tests.e2e.deployment_support import deploy, wait_state
from tests.e2e.fleet_support import (
    digests_on_device,
    file_digests,
    pair_quickly,
    wait_rollout,
)
from tests.relay.conftest import Agents, wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = 20
REFUSING = ("fleet-02", "fleet-03")  # both in phase 2 (1, then 20 % = 4, then 15)
DAMAGED = "fleet-10"
# Generous: two cores shared with other work, 20 agent processes starting.
CONNECT_TIMEOUT = 180
END_TIMEOUT = 420


@pytest.fixture
def fleet_agents(live_server, alice, tmp_path, settings):
    # Heartbeats every 10 s: the work comes through the tunnel (the push), not the beats.
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 30
    pool = Agents(live_server, alice, tmp_path)
    yield pool
    pool.stop_all()


def restart(agents: Agents, process, state_dir, *extra):
    process.terminate()
    process.wait(timeout=30)
    return agents.run(state_dir, *extra)


def damage_copies(models_dir, sha256: str) -> int:
    """Flip a byte of every file holding that model, installed or kept in .previous/."""
    import hashlib

    damaged = 0
    for path in [*models_dir.glob("*.nef"), *(models_dir / ".previous").glob("*.nef")]:
        if hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
            data = bytearray(path.read_bytes())
            data[10] ^= 0xFF
            path.unlink()  # a hard link may share the bytes: write a new file
            path.write_bytes(bytes(data))
            damaged += 1
    return damaged


def failed_devices(http, rollout_id: str, count: int) -> list[dict] | None:
    """The rollout's failed devices once there are ``count`` of them."""
    devices = http.get(f"/api/rollouts/{rollout_id}").json()["devices"]
    failed = [device for device in devices if device["state"] == "failed"]
    return failed if len(failed) == count else None


def test_a_three_phase_rollout_pauses_is_retried_completes_and_rolls_back(
    relay,
    worker,
    fleet_agents,
    alice,
    alice_http,
    make_model,
):
    agents = fleet_agents
    fleet = {}
    for number in range(COUNT):
        name = f"fleet-{number:02}"
        device_id, state_dir = pair_quickly(agents, name=name, serial=f"FLEET-{number:02}")
        fleet[name] = {"id": device_id, "state_dir": state_dir, "models": state_dir / "models"}
    for entry in fleet.values():
        entry["process"] = agents.run(entry["state_dir"])
    for entry in fleet.values():
        wait_connected(relay, entry["id"], timeout=CONNECT_TIMEOUT)

    # What every device has before: model A.
    old = make_model(alice, "detector", chips=("KL720",), size=512 * 1024)
    created = deploy(alice_http, old.pk, *(entry["id"] for entry in fleet.values()))
    assert created.status_code == 201, created.text
    for result in created.json()["results"]:
        assert wait_state(result["deployment"]["id"], "installed", "failed", timeout=END_TIMEOUT)
    assert Deployment.objects.filter(model=old, state="installed").count() == COUNT

    # The new version, under the same name (the old one deleted from My models).
    model_services.model_delete(model=old)
    new = make_model(alice, "detector", chips=("KL720",), size=600 * 1024)
    for name in REFUSING:
        entry = fleet[name]
        entry["process"] = restart(
            agents, entry["process"], entry["state_dir"], "--demo-refuse-installs"
        )
        wait_connected(relay, entry["id"], timeout=CONNECT_TIMEOUT)
    group = alice_http.post(
        "/api/groups",
        json={"name": "Fleet", "device_ids": [entry["id"] for entry in fleet.values()]},
    ).json()

    started = alice_http.post(
        "/api/rollouts",
        json={"model_id": new.pk, "group_id": group["id"], "wait_seconds": 600},
    )
    assert started.status_code == 201, started.text
    rollout_id = started.json()["id"]
    assert [p["size"] for p in started.json()["phases"]] == ["1", "20%", "rest"]

    paused = wait_rollout(alice_http, rollout_id, "paused", "completed", timeout=END_TIMEOUT)
    assert paused["state"] == "paused"
    assert paused["pause"]["code"] == "phase_failed"
    assert paused["pause"]["message"].startswith("Phase 2:")
    failed = wait_for(lambda: failed_devices(alice_http, rollout_id, 2), timeout=END_TIMEOUT)
    assert sorted(d["device"]["name"] for d in failed) == sorted(REFUSING)
    assert {d["reason_code"] for d in failed} == {"install_failed"}
    assert all("refuses installs" in d["deployment"]["error_message"] for d in failed)
    assert all(d["reason"].startswith("The device did not install the model") for d in failed)
    phase_3 = RolloutTarget.objects.filter(rollout_id=rollout_id, phase__number=3)
    assert set(phase_3.values_list("state", flat=True)) == {"planned"}

    for name in REFUSING:
        entry = fleet[name]
        entry["process"] = restart(agents, entry["process"], entry["state_dir"])
        wait_connected(relay, entry["id"], timeout=CONNECT_TIMEOUT)
    retried = alice_http.post(f"/api/rollouts/{rollout_id}/retry")
    assert retried.status_code == 200, retried.text

    done = wait_rollout(alice_http, rollout_id, "completed", "paused", timeout=END_TIMEOUT)
    assert done["state"] == "completed", done.get("pause")
    assert done["counts"]["passed"] == COUNT
    for entry in fleet.values():
        assert new.sha256 in digests_on_device(alice_http, entry["id"])

    assert damage_copies(fleet[DAMAGED]["models"], old.sha256) >= 1
    rolled = alice_http.post(f"/api/rollouts/{rollout_id}/rollback")
    assert rolled.status_code == 200, rolled.text

    back = wait_rollout(alice_http, rollout_id, "rolled_back", timeout=END_TIMEOUT)
    sources = {}
    for device in back["devices"]:
        rollback = device["rollback"]
        assert rollback["state"] == "sent"
        assert rollback["deployment"]["state"] == "installed", rollback
        assert rollback["model"]["sha256"] == old.sha256
        sources[device["device"]["name"]] = rollback["restored_from"]
    assert sources.pop(DAMAGED) == "download"
    assert set(sources.values()) <= {"kept_copy", "in_place"}
    for entry in fleet.values():
        on_device = digests_on_device(alice_http, entry["id"])
        assert old.sha256 in on_device and new.sha256 not in on_device
        assert old.sha256 in file_digests(entry["models"])
        assert new.sha256 not in file_digests(entry["models"])
