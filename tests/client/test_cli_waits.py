"""What every ``--wait`` shares (visiona_cli/waiting.py), against answers from
``responses``: a device that is offline is said once, ``--timeout`` ends a wait that
would never end (exit 4, with how to follow again), and a poll that failed for a moment
(no answer, 502, 503, 504) is tried again before the command gives up."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

DEVICE_ID = "6f1c1d2e-0000-4000-8000-000000000001"
DEPLOYMENT_ID = "0b7a2f4e-0000-4000-8000-00000000000d"
RUN_ID = "0b7a2f4e-0000-4000-8000-0000000000aa"
JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000e"
ROLLOUT_ID = "0b7a2f4e-0000-4000-8000-0000000000bb"
MODEL = {"id": 7, "name": "yolo-720", "chips": ["KL720"], "size_bytes": 9000, "sha256": "a" * 64}
OFFLINE_DEVICE = {
    "id": DEVICE_ID,
    "name": "desk",
    "chip": "KL720",
    "connection_status": "offline",
    "last_seen_at": None,
}
OFFLINE_NOTE = "Device desk is offline; waiting for it to connect"


def deployment(state: str) -> dict:
    return {
        "id": DEPLOYMENT_ID,
        "state": state,
        "model": {"id": 7, "name": "yolo-720"},
        "device": {"id": DEVICE_ID, "name": "desk", "chip": "KL720"},
        "bytes_done": 0,
        "bytes_total": 9000,
    }


def job(status: str) -> dict:
    return {"job_id": JOB_ID, "status": status, "stage": "nef", "progress": 50, "error": None}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path / "config")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{SERVER}/api/models/7", json=MODEL)
        mock.get(f"{SERVER}/api/devices/", json={"devices": [OFFLINE_DEVICE]})
        mock.get(f"{SERVER}/api/devices/{DEVICE_ID}", json=OFFLINE_DEVICE)
        yield mock


def cli(capsys, *arguments):
    code = cli_main.main(["--json", *arguments], poll_seconds=0.001)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_deploy_wait_says_the_device_is_offline_once_and_stops_at_the_timeout(api, capsys):
    created = {"outcome": "created", "deployment": deployment("pending")}
    api.post(f"{SERVER}/api/deployments", status=201, json={"results": [created]})
    api.get(f"{SERVER}/api/deployments/{DEPLOYMENT_ID}", json=deployment("pending"))

    code, data, err = cli(capsys, "deploy", "7", "--device", "desk", "--wait", "--timeout", "0.05")

    assert code == 4
    assert data["error"]["code"] == "wait_timeout"
    assert f"deploy 7 --device {DEVICE_ID} --wait" in data["error"]["message"]
    assert f"stop it with: visiona cancel deployment {DEPLOYMENT_ID}" in data["error"]["message"]
    # A script follows or cancels it from the details, not from the English message.
    assert data["error"]["details"] == {"deployment_id": DEPLOYMENT_ID, "state": "pending"}
    assert err.count(OFFLINE_NOTE) == 1


def test_run_says_the_device_is_offline_and_stops_at_the_timeout(api, capsys, tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pending = {"id": RUN_ID, "state": "pending", "inputs_done": 0, "inputs_count": 1}
    api.post(f"{SERVER}/api/runs", status=201, json=pending)
    api.get(f"{SERVER}/api/runs/{RUN_ID}", json=pending)

    code, data, err = cli(
        capsys, "run", "7", "--device", "desk", "--inputs", str(tmp_path / "a.png"),
        "--timeout", "0.05",
    )  # fmt: skip

    assert code == 4
    assert data["error"]["code"] == "wait_timeout"
    assert f"{SERVER}/runs/{RUN_ID}/" in data["error"]["message"]
    assert f"stop it with: visiona cancel run {RUN_ID}" in data["error"]["message"]
    assert data["error"]["details"] == {"run_id": RUN_ID, "state": "pending"}
    assert err.count(OFFLINE_NOTE) == 1


def test_a_job_wait_that_times_out_names_the_job_and_its_status(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job("running"))

    code, data, _ = cli(capsys, "jobs", JOB_ID, "--wait", "--timeout", "0.05")

    assert code == 4
    assert data["error"]["code"] == "wait_timeout"
    assert data["error"]["details"] == {"job_id": JOB_ID, "status": "running"}


def test_an_online_device_is_not_called_offline(api, capsys):
    api.replace(
        responses.GET,
        f"{SERVER}/api/devices/",
        json={"devices": [{**OFFLINE_DEVICE, "connection_status": "online"}]},
    )
    created = {"outcome": "created", "deployment": deployment("pending")}
    api.post(f"{SERVER}/api/deployments", status=201, json={"results": [created]})
    api.get(f"{SERVER}/api/deployments/{DEPLOYMENT_ID}", json=deployment("installed"))

    code, _, err = cli(capsys, "deploy", "7", "--device", "desk", "--wait")

    assert code == 0
    assert "offline" not in err


def test_a_poll_that_failed_for_a_moment_is_tried_again(api, capsys):
    url = f"{SERVER}/api/conversion/{JOB_ID}"
    api.get(url, json=job("running"))
    api.get(url, body=requests.ConnectionError("the server restarts"))
    api.get(url, status=503, json={"error": {"code": "unavailable", "message": "Restarting."}})
    api.get(url, json=job("completed"))

    code, data, err = cli(capsys, "jobs", JOB_ID, "--wait")

    assert code == 0, err
    assert data["job"]["status"] == "completed"
    assert err.count("Trying again") == 2


def test_a_wait_gives_up_after_its_tries_and_says_how_to_follow_again(api, capsys):
    url = f"{SERVER}/api/conversion/{JOB_ID}"
    api.get(url, json=job("running"))
    api.get(url, body=requests.ConnectionError("gone"))

    code, data, _ = cli(capsys, "jobs", JOB_ID, "--wait")

    assert code == 4
    assert data["error"]["code"] == "network_error"
    assert f"visiona jobs {JOB_ID} --wait" in data["error"]["message"]
    assert f"stop it with: visiona cancel job {JOB_ID}" in data["error"]["message"]


def test_a_refusal_is_not_tried_again(api, capsys):
    url = f"{SERVER}/api/conversion/{JOB_ID}"
    api.get(url, json=job("running"))
    api.get(url, status=404, json={"error": {"code": "not_found", "message": "No such job."}})

    code, _, err = cli(capsys, "jobs", JOB_ID, "--wait")

    assert code == 2
    assert "Trying again" not in err


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_timeout_must_be_a_positive_number_of_seconds(api, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["jobs", JOB_ID, "--wait", "--timeout", value])
    assert exit_info.value.code == 2


def rollout(state: str) -> dict:
    counts = dict.fromkeys(("passed", "failed", "deploying", "checking", "planned"), 0)
    return {"id": ROLLOUT_ID, "state": state, "counts": {**counts, "offline": 1}, "phases": []}


def test_a_device_rollback_says_the_device_is_offline_and_stops_at_the_timeout(api, capsys):
    pending = {**deployment("pending"), "restored_from": None, "error_message": ""}
    api.post(f"{SERVER}/api/devices/{DEVICE_ID}/rollback", status=201, json=pending)
    api.get(f"{SERVER}/api/deployments/{DEPLOYMENT_ID}", json=pending)

    code, data, err = cli(capsys, "devices", "rollback", "desk", "--wait", "--timeout", "0.05")

    assert code == 4
    assert data["error"]["code"] == "wait_timeout"
    assert f"rollback {DEPLOYMENT_ID} is pending" in data["error"]["message"]
    assert f"stop it with: visiona cancel deployment {DEPLOYMENT_ID}" in data["error"]["message"]
    assert err.count(OFFLINE_NOTE) == 1


def test_a_rollout_wait_retries_a_failed_poll_and_stops_at_the_timeout(api, capsys):
    url = f"{SERVER}/api/rollouts/{ROLLOUT_ID}"
    api.get(url, json=rollout("running"))
    api.get(url, status=502, json={"error": {"code": "bad_gateway", "message": "Restarting."}})
    api.get(url, json=rollout("running"))

    code, data, err = cli(capsys, "rollout", "show", ROLLOUT_ID, "--wait", "--timeout", "0.2")

    assert code == 4
    assert data["error"]["code"] == "wait_timeout"
    assert f"visiona rollout show {ROLLOUT_ID} --wait" in data["error"]["message"]
    assert err.count("Trying again") == 1
