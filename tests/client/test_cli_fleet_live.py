"""``visiona groups``, ``visiona rollout`` and ``visiona devices rollback|pin|unpin``
against a live visionA. The devices' agents are played by the deployment service (the
reports an agent sends), so each step is the server's real answer; the tests' task
backend advances the rollout at once, in the live server."""

# The fixtures come from other test modules (imported below): their names are reused.
# ruff: noqa: F811

from __future__ import annotations

import re
import threading
from datetime import UTC, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from deployments.models import Deployment, DevicePin, GroupPin, Rollout, Run
from deployments.services import deployments_create
from devices import services as device_services
from tests.client.test_cli_live import cli, env, token  # noqa: F401  (fixtures)
from tests.deployments.conftest import alice_devices, alice_kl720, make_model  # noqa: F401
from tests.deployments.rollout_support import connect, fail, report
from tests.devices.conftest import issue_code, pair  # noqa: F401
from tests.e2e.conftest import sandbox  # noqa: F401

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def devices(alice_devices):
    paired = [result.device for result in alice_devices(3)]
    for device in paired:
        device_services.device_heartbeat(device=device, agent_status="ready")
        connect(device)  # its tunnel open: online (devices/presence.py)
    return sorted(paired, key=lambda device: device.name)


def answer_rollbacks(stop: threading.Event) -> None:
    """Play the agents: install every rollback deployment as it appears."""
    try:
        while not stop.wait(0.2):
            for rollback in Deployment.objects.filter(kind="rollback", state="pending"):
                report(rollback.device, rollback, "installed", restored_from="kept_copy")
    finally:
        connections.close_all()  # this thread's own connection


@pytest.fixture
def agents_answer_rollbacks():
    stop = threading.Event()
    thread = threading.Thread(target=answer_rollbacks, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def test_groups_from_the_command_line(cli, devices):
    made = cli("groups", "create", "Rack A", "--device", devices[0].name, "--json")
    assert made.code == 0, made.err
    assert made.data["group"]["device_count"] == 1

    added = cli("groups", "add", "rack a", "--chip", "720", "--json")
    assert added.data["group"]["device_count"] == 3
    removed = cli("groups", "remove", "Rack A", "--device", str(devices[2].pk), "--json")
    assert removed.data["group"]["device_count"] == 2
    renamed = cli("groups", "rename", "Rack A", "Rack B", "--json")
    assert renamed.data["group"]["name"] == "Rack B"
    listed = cli("groups")
    assert "Rack B" in listed.out and listed.code == 0
    unknown = cli("groups", "show", "Nowhere", "--json")
    assert (unknown.code, unknown.data["error"]["code"]) == (2, "group_not_found")


def test_a_rollout_followed_to_its_end_and_its_exit_codes(
    cli,
    alice,
    devices,
    make_model,
    agents_answer_rollbacks,
):
    old = make_model(alice, "detector v1", chips=("KL720",))
    new = make_model(alice, "detector v2", chips=("KL720",))
    for result in deployments_create(
        user=alice, model_id=old.pk, device_ids=[d.pk for d in devices]
    ):
        report(result.device, result.deployment, "installed")
    cli("groups", "create", "Rack A", "--chip", "KL720")

    started = cli("rollout", "create", "detector v2", "--group", "Rack A", "--phases", "1,rest")
    assert started.code == 0, started.err
    rollout = Rollout.objects.get()
    first = Deployment.objects.get(rollout=rollout)
    fail(first.device, first)

    paused = cli("rollout", "show", str(rollout.pk), "--wait", "--json")
    assert paused.code == 1
    assert paused.data["rollout"]["state"] == "paused"
    assert "Phase 1: 1 of 1 devices failed" in paused.err

    retried = cli("rollout", "retry", str(rollout.pk), "--json")
    assert retried.code == 0
    for deployment in Deployment.objects.filter(rollout=rollout, state="pending"):
        report(deployment.device, deployment, "installed")
    for deployment in Deployment.objects.filter(rollout=rollout, state="pending"):
        report(deployment.device, deployment, "installed")  # the second phase's
    done = cli("rollout", "show", str(rollout.pk), "--wait", "--json")
    assert (done.code, done.data["rollout"]["state"]) == (0, "completed")
    assert Deployment.objects.filter(rollout=rollout, model=new, state="installed").count() == 3

    rolled = cli("rollout", "rollback", str(rollout.pk), "--wait", "--json")

    assert rolled.code == 0, rolled.err
    assert rolled.data["rollout"]["state"] == "rolled_back"
    backs = [d["rollback"] for d in rolled.data["rollout"]["devices"]]
    assert {(b["model"]["id"], b["restored_from"]) for b in backs} == {(old.pk, "kept_copy")}
    again = cli("rollout", "rollback", str(rollout.pk), "--json")
    assert (again.code, again.data["error"]["code"]) == (1, "rollout_state_conflict")


def test_a_rollout_refused_says_why(cli, alice, devices, make_model):
    make_model(alice, "for 520", chips=("KL520",))
    cli("groups", "create", "Rack A", "--chip", "KL720")
    refused = cli("rollout", "create", "for 520", "--group", "Rack A", "--json")
    assert (refused.code, refused.data["error"]["code"]) == (2, "no_device_of_chip")
    assert not Rollout.objects.exists()


def test_a_device_rolled_back_pinned_and_unpinned(
    cli,
    alice,
    devices,
    make_model,
    agents_answer_rollbacks,
):
    device = devices[0]
    for name in ("v1", "v2"):
        model = make_model(alice, name, chips=("KL720",))
        (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
        report(device, result.deployment, "installed")

    rolled = cli("devices", "rollback", device.name, "--wait", "--json")
    assert rolled.code == 0, rolled.err
    assert (rolled.data["deployment"]["state"], rolled.data["deployment"]["kind"]) == (
        "installed",
        "rollback",
    )
    assert rolled.data["deployment"]["model"]["name"] == "v1"
    nothing = cli("devices", "rollback", devices[1].name, "--json")
    assert (nothing.code, nothing.data["error"]["code"]) == (1, "nothing_to_roll_back")

    assert cli("devices", "pin", device.name, "--reason", "field trial").code == 0
    assert DevicePin.objects.get(device=device).reason == "field trial"
    listed = {d["id"]: d for d in cli("devices", "--json").data["devices"]}
    assert (listed[str(device.pk)]["pinned"], listed[str(device.pk)]["pin_reason"]) == (
        True,
        "field trial",
    )
    assert listed[str(devices[1].pk)]["pinned"] is False
    table = cli("devices").out.splitlines()
    assert table[0].split()[-1] == "PINNED"
    assert next(row for row in table if device.name in row).endswith("field trial")
    assert cli("devices", "unpin", device.name).code == 0
    assert not DevicePin.objects.filter(device=device).exists()
    assert cli("devices").code == 0


def test_rollout_show_prints_the_offline_devices_deadline(cli, alice, alice_devices, make_model):
    (offline,) = (result.device for result in alice_devices(1))  # never connected
    make_model(alice, "detector v2", chips=("KL720",))
    cli("groups", "create", "Rack A", "--device", offline.name)
    started = cli("rollout", "create", "detector v2", "--group", "Rack A", "--wait-minutes", "10")
    assert started.code == 0, started.err
    rollout = Rollout.objects.get()
    phase = rollout.phases.get(number=1)

    shown = cli("rollout", "show", str(rollout.pk))

    assert shown.code == 0, shown.err
    at = phase.deadline_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert re.search(
        rf"phase 1 \(1\): running, .*waits for 1 device yet to take the model "
        rf"\(deadline {at}, (9 min \d+ s|10 min 0 s) left\)",
        shown.out,
    ), shown.out

    phase.deadline_at -= timedelta(minutes=11)  # the deadline passes
    phase.save(update_fields=["deadline_at"])
    late = cli("rollout", "show", str(rollout.pk))
    assert "passed: devices that had not taken the model no longer hold it up)" in late.out


def test_a_group_pinned_and_unpinned_from_the_command_line(cli, alice, devices, make_model):
    cli("groups", "create", "Rack A", "--chip", "KL720")
    cli("groups", "create", "Everything", "--chip", "KL720")

    pinned = cli("groups", "pin", "rack a", "--reason", "field trial", "--json")

    assert pinned.code == 0, pinned.err
    assert (pinned.data["pin"]["pinned"], pinned.data["pin"]["reason"]) == (True, "field trial")
    assert GroupPin.objects.get(group__name="Rack A").reason == "field trial"
    shown = cli("groups", "show", "Rack A")
    assert "Pinned: field trial" in shown.out
    assert "field trial" in cli("groups").out
    make_model(alice, "detector v2", chips=("KL720",))
    refused = cli("rollout", "create", "detector v2", "--group", "Everything", "--json")
    assert (refused.code, refused.data["error"]["code"]) == (2, "no_eligible_devices")

    unpinned = cli("groups", "unpin", "Rack A", "--json")
    assert (unpinned.code, unpinned.data["pin"]["pinned"]) == (0, False)
    assert not GroupPin.objects.exists()
    unknown = cli("groups", "pin", "Nowhere", "--json")
    assert (unknown.code, unknown.data["error"]["code"]) == (2, "group_not_found")


def test_a_rollout_gated_by_expectations_from_the_command_line(cli, alice, devices, make_model):
    model = make_model(alice, "detector v2", chips=("KL720",))
    earlier = Run.objects.create(  # an earlier completed run of the model: the smoke inputs
        owner=alice,
        device=devices[0],
        model=model,
        sha256=model.sha256,
        state="completed",
        repeat=1,
        channel_order="rgb",
        scale="unit",
        inputs_count=1,
        inputs_bytes=1,
        finished_at=timezone.now(),
    )
    cli("groups", "create", "Rack A", "--chip", "KL720")
    smoke = ("detector v2", "--group", "Rack A", "--smoke-run", str(earlier.pk))

    bad = cli("rollout", "create", *smoke, "--expect", "p90_ms=20")
    assert bad.code == 2 and "--expect: 'p90_ms=20' is not FIGURE>=NUMBER" in bad.err, bad.err
    alone = cli("rollout", "create", "detector v2", "--group", "Rack A", "--expect", "p90_ms<=20")
    assert alone.code == 2 and "--expect needs --smoke-run" in alone.err
    assert not Rollout.objects.exists()

    made = cli("rollout", "create", *smoke, "--expect", "p90_ms<=20, throughput>=5", "--json")

    assert made.code == 0, made.err
    assert made.data["rollout"]["smoke_expect"] == "p90_ms<=20,throughput>=5"
    assert Rollout.objects.get().smoke_expect == "p90_ms<=20,throughput>=5"


def test_a_group_rolled_back_from_the_command_line(
    cli, alice, devices, make_model, agents_answer_rollbacks
):
    back, alone = devices[0], devices[1]
    for device, names in ((back, ("v1", "v2")), (alone, ("only",))):
        for name in names:
            model = make_model(alice, f"{name} {device.name}", chips=("KL720",))
            (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
            report(device, result.deployment, "installed")
    cli("groups", "create", "Rack A", "--device", back.name, "--device", alone.name)

    rolled = cli("groups", "rollback", "rack a", "--json")

    assert rolled.code == 0, rolled.err
    by_device = {r["device_id"]: r for r in rolled.data["results"]}
    assert by_device[str(back.pk)]["outcome"] == "sent"
    assert by_device[str(back.pk)]["deployment"]["model"]["name"] == f"v1 {back.name}"
    assert (by_device[str(alone.pk)]["outcome"], by_device[str(alone.pk)]["code"]) == (
        "skipped",
        "nothing_to_roll_back",
    )
    said = cli("groups", "rollback", "Rack A")  # the first is still installing, or done
    assert by_device[str(alone.pk)]["device_name"] == alone.name
    assert f"\n{alone.name}: skipped: This device had no model before" in f"\n{said.err}"
    assert "Rollbacks sent to" in said.out
    assert Deployment.objects.filter(kind="rollback", device=alone).count() == 0
    unknown = cli("groups", "rollback", "Nowhere", "--json")
    assert (unknown.code, unknown.data["error"]["code"]) == (2, "group_not_found")


def test_rollout_pause_wait_exits_0_once_paused(cli, alice, devices, make_model):
    make_model(alice, "detector v2", chips=("KL720",))
    cli("groups", "create", "Rack A", "--chip", "KL720")
    cli("rollout", "create", "detector v2", "--group", "Rack A", "--phases", "1,rest")
    rollout = Rollout.objects.get()

    paused = cli("rollout", "pause", str(rollout.pk), "--wait", "--json")

    assert paused.code == 0, paused.err
    assert paused.data["rollout"]["state"] == "paused"
    assert "no further phase starts until you resume" in paused.err
    again = cli("rollout", "pause", str(rollout.pk), "--wait", "--json")
    assert (again.code, again.data["error"]["code"]) == (1, "rollout_state_conflict")
    # Following a rollout paused without asking for it still exits 1.
    shown = cli("rollout", "show", str(rollout.pk), "--wait")
    assert shown.code == 1 and "The rollout is paused: Paused by you" in shown.err
