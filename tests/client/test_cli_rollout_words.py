"""``visiona rollout`` and ``devices rollback`` say what happened in words: a rollout
resumed past a failed phase is not reported as failures within the allowed share (and
exits 1), states and restore sources are not printed as codes, and a running phase
says what it waits for (answers from ``responses``: the server has its own tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from visiona_client.visiona_cli import main as cli_main
from visiona_client.visiona_cli import rollout as rollout_cli

from tests.client.cli_helpers import SERVER, point_cli_at

ROLLOUT_ID = "5d0c7c1a-0000-4000-8000-0000000000a1"
DEVICE_ID = "6f1c1d2e-0000-4000-8000-000000000001"
DEPLOYMENT_ID = "0b7a2f4e-0000-4000-8000-00000000000d"
STATES = ("skipped", "planned", "deploying", "checking", "passed", "failed", "offline")


def counts(**given: int) -> dict:
    every = {**dict.fromkeys((*STATES, "cancelled"), 0), **given}
    return {"total": sum(every.values()), **every}


def device(name: str, phase: int, state: str, deployment: str = "installed", rollback=None) -> dict:
    return {
        "device": {"id": f"id-{name}", "name": name},
        "phase": phase,
        "state": state,
        "reason_code": "",
        "reason": "",
        "deployment": {"id": f"d-{name}", "state": deployment},
        "rollback": rollback,
    }


def rollout(state: str, phases: list[dict], devices: list[dict], **fields) -> dict:
    every = counts()
    for row in devices:
        every[row["state"]] += 1
        every["total"] += 1
    return {
        "id": ROLLOUT_ID,
        "state": state,
        "model": {"id": 7, "name": "yolo-720"},
        "group": {"id": "g1", "name": "lab"},
        "max_failure_percent": 10,
        "pause": None,
        "counts": every,
        "phases": phases,
        "devices": devices,
        "created_at": "2026-12-07T10:00:00Z",
        **fields,
    }


def phase(number: int, state: str, deadline_at: str | None = None, **given: int) -> dict:
    return {
        "number": number,
        "size": "rest",
        "state": state,
        "deadline_at": deadline_at,
        "counts": counts(**given),
    }


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def cli(capsys, *arguments: str) -> tuple[int, str, str]:
    code = cli_main.main(list(arguments), poll_seconds=0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_resumed_past_a_failed_phase_says_so_and_exits_1(api, capsys):
    paused = rollout("paused", [phase(1, "failed", failed=1)], [device("desk", 1, "failed")])
    done = rollout("completed", [phase(1, "accepted", failed=1)], [device("desk", 1, "failed")])
    api.post(f"{SERVER}/api/rollouts/{ROLLOUT_ID}/resume", json={**paused, "state": "running"})
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=done)

    code, out, err = cli(capsys, "rollout", "resume", ROLLOUT_ID, "--wait")

    assert code == 1
    assert "within the allowed share" not in err
    assert (
        "Completed; 1 device failed, and phase 1 was accepted over the failure limit "
        "(1 of 1 device failed, more than the 10 % allowed) when the rollout was resumed."
    ) in err
    assert "phase 1 (rest): accepted despite failures, 0/1 passed, 1 failed" in out


def test_resumed_past_a_phase_nobody_confirmed_says_so(api, capsys):
    done = rollout(
        "completed",
        [phase(1, "accepted", offline=2), phase(2, "passed", passed=1)],
        [device("a", 1, "offline", "pending"), device("b", 1, "offline", "pending")],
    )
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=done)

    code, _out, err = cli(capsys, "rollout", "show", ROLLOUT_ID, "--wait")

    assert code == 1
    assert (
        "Completed; phase 1 was accepted with no device confirming the model when the "
        "rollout was resumed."
    ) in err


def test_failures_within_the_share_still_exit_0(api, capsys):
    rows = [device(f"d{n}", 1, "passed") for n in range(9)] + [device("bad", 1, "failed")]
    done = rollout("completed", [phase(1, "passed", passed=9, failed=1)], rows)
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=done)

    code, _out, err = cli(capsys, "rollout", "show", ROLLOUT_ID, "--wait")

    assert code == 0
    assert "Completed; 1 device failed, within the allowed share." in err


def test_states_and_restore_sources_are_words(api, capsys):
    rows = [
        device("desk", 1, "passed", rollback={"state": "sent", "restored_from": "kept_copy"}),
        device("shelf", 1, "passed", rollback={"state": "sent", "restored_from": "in_place"}),
    ]
    for row in rows:
        row["rollback"]["deployment"] = {"state": "installed"}
    back = rollout("rolled_back", [phase(1, "passed", passed=2), phase(2, "cancelled")], rows)
    api.post(f"{SERVER}/api/rollouts/{ROLLOUT_ID}/rollback", json={**back, "state": "rolling_back"})
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=back)
    api.get(f"{SERVER}/api/rollouts", json={"results": [back]})

    code, out, err = cli(capsys, "rollout", "rollback", ROLLOUT_ID, "--wait")

    assert code == 0, err
    assert "rolled_back" not in out + err and "rolling_back" not in out + err
    assert "it is rolling back." in err
    assert f"{ROLLOUT_ID} rolled back: yolo-720 to lab" in out
    assert "phase 2 (rest): not started" in out
    assert "installed (from the device's kept copy)" in out
    assert "installed (from its file still in place on the device)" in out
    assert "in_place" not in out and "kept_copy" not in out

    code, out, _err = cli(capsys, "rollout", "ls")
    assert code == 0 and "rolled back" in out and "rolled_back" not in out


def test_a_device_rollback_says_where_the_model_came_from(api, capsys):
    answer = {
        "id": DEPLOYMENT_ID,
        "state": "installed",
        "model": {"id": 7, "name": "yolo-520"},
        "restored_from": "in_place",
        "error_message": "",
    }
    api.get(
        f"{SERVER}/api/devices/",
        json={
            "devices": [{"id": DEVICE_ID, "name": "desk", "chip": "KL720"}],
            "online_threshold_seconds": 90,
        },
    )
    api.post(f"{SERVER}/api/devices/{DEVICE_ID}/rollback", status=201, json=answer)

    code, out, _err = cli(capsys, "devices", "rollback", "desk", "--wait")

    assert code == 0
    assert out.strip() == (
        f"{DEPLOYMENT_ID} installed: brought back from its file still in place on the device"
    )


def test_a_running_phase_says_what_it_waits_for(api, capsys):
    deadline = datetime.now(UTC) + timedelta(minutes=10)
    at = deadline.strftime("%Y-%m-%d %H:%M:%S UTC")
    rows = [
        device("desk", 1, "deploying", "downloading"),
        device("shelf", 1, "deploying", "pending"),
        device("rack", 1, "checking"),
    ]
    running = rollout("running", [phase(1, "running", deadline.isoformat(), deploying=2)], rows)
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=running)

    code, out, _err = cli(capsys, "rollout", "show", ROLLOUT_ID)

    assert code == 0
    assert "offline devices" not in out
    waits = "waits for 1 device yet to take the model, 1 installing, 1 being checked"
    assert f"; {waits} (deadline {at}, " in out

    # Following it: the same, on each line (the counts alone when the answer has no
    # devices: what is under way).
    without_devices = {**running, "devices": []}
    line = rollout_cli._deadline_note(without_devices)
    assert line == f"; phase 1 waits for 2 devices under way (deadline {at})"
    assert rollout_cli._deadline_note(running) == f"; phase 1 {waits} (deadline {at})"


def test_json_keeps_the_codes(api, capsys):
    back = rollout("rolled_back", [phase(1, "accepted", failed=1)], [device("d", 1, "failed")])
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=back)

    code, out, _err = cli(capsys, "rollout", "show", ROLLOUT_ID, "--json")

    assert code == 0
    data = json.loads(out)["rollout"]
    assert (data["state"], data["phases"][0]["state"]) == ("rolled_back", "accepted")


@pytest.mark.parametrize("action", ["show", "pause", "rollback"])
def test_a_rollout_id_that_is_none_is_refused_before_any_request(api, capsys, action):
    code, _, err = cli(capsys, "rollout", action, "abc")
    assert code == 2
    assert "Not a rollout id: 'abc' (visiona rollout ls lists them). (rollout_not_found)" in err
    assert len(api.calls) == 0


def test_an_upper_case_rollout_id_is_the_same_rollout(api, capsys):
    api.get(f"{SERVER}/api/rollouts/{ROLLOUT_ID}", json=rollout("completed", [], []))
    code, _, _ = cli(capsys, "rollout", "show", ROLLOUT_ID.upper())
    assert code == 0
    assert api.calls[0].request.url == f"{SERVER}/api/rollouts/{ROLLOUT_ID}"
