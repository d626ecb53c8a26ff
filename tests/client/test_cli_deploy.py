"""``visiona deploy`` against the deployments API as its contract says (answers from
``responses``: the server side has its own tests)."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

DEVICE_ID = "6f1c1d2e-0000-4000-8000-000000000001"
DEPLOYMENT_ID = "0b7a2f4e-0000-4000-8000-00000000000d"
MODEL = {"id": 7, "name": "yolo-720", "chips": ["KL720"], "size_bytes": 9000, "sha256": "a" * 64}
DEVICE = {
    "id": DEVICE_ID,
    "name": "desk",
    "chip": "KL720",
    "connection_status": "connected",
    "last_seen_at": None,
}


def deployment(state: str, **fields) -> dict:
    return {
        "id": DEPLOYMENT_ID,
        "state": state,
        "model": {k: MODEL[k] for k in ("id", "name", "sha256", "size_bytes")},
        "device": {k: DEVICE[k] for k in ("id", "name", "chip")},
        "bytes_done": 0,
        "bytes_total": 9000,
        "error_code": "",
        "error_message": "",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "finished_at": None,
        **fields,
    }


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{SERVER}/api/models/7", json=MODEL)
        mock.get(
            f"{SERVER}/api/models/",
            json={"count": 1, "next": None, "previous": None, "results": [MODEL]},
        )
        mock.get(
            f"{SERVER}/api/devices/", json={"devices": [DEVICE], "online_threshold_seconds": 90}
        )
        yield mock


def run(capsys, *arguments):
    code = cli_main.main(["deploy", "yolo-720", "--device", "desk", "--json", *arguments])
    return code, json.loads(capsys.readouterr().out)


def test_deploy_sends_the_contracts_body(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=201,
        json={
            "results": [
                {"device_id": DEVICE_ID, "outcome": "created", "deployment": deployment("pending")}
            ]
        },
    )
    code, data = run(capsys)
    assert code == 0
    sent = json.loads(api.calls[-1].request.body)
    assert sent == {"model_id": 7, "device_ids": [DEVICE_ID]}
    assert api.calls[-1].request.headers["Authorization"] == "Bearer vap_test"
    assert data["outcome"] == "created" and data["deployment"]["state"] == "pending"


def test_wait_follows_until_installed(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=201,
        json={
            "results": [
                {"device_id": DEVICE_ID, "outcome": "created", "deployment": deployment("pending")}
            ]
        },
    )
    url = f"{SERVER}/api/deployments/{DEPLOYMENT_ID}"
    api.get(url, json=deployment("downloading", bytes_done=4500))
    api.get(url, json=deployment("verifying", bytes_done=9000))
    api.get(url, json=deployment("installed", bytes_done=9000))
    code = cli_main.main(["deploy", "7", "--device", DEVICE_ID, "--wait", "--json"], poll_seconds=0)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["deployment"]["state"] == "installed"
    assert "downloading 4.4 KiB / 8.8 KiB" in out.err


def test_a_failed_deployment_exits_1_with_its_error(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=201,
        json={
            "results": [
                {"device_id": DEVICE_ID, "outcome": "created", "deployment": deployment("pending")}
            ]
        },
    )
    api.get(
        f"{SERVER}/api/deployments/{DEPLOYMENT_ID}",
        json=deployment(
            "failed", error_code="chip_mismatch", error_message="The dongle is a KL520."
        ),
    )
    code = cli_main.main(["deploy", "yolo-720", "--device", "desk", "--wait"], poll_seconds=0)
    assert code == 1
    assert "chip_mismatch" in capsys.readouterr().err
    # --json: the outcome's error, in the shape of every other error.
    code = cli_main.main(
        ["deploy", "yolo-720", "--device", "desk", "--wait", "--json"], poll_seconds=0
    )
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["code"], error["exit_code"]) == ("deployment_failed", 1)
    assert error["details"] == {"deployment_id": DEPLOYMENT_ID, "error_code": "chip_mismatch"}


def test_a_failure_is_explained_when_the_server_explains_it(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=201,
        json={
            "results": [
                {"device_id": DEVICE_ID, "outcome": "created", "deployment": deployment("pending")}
            ]
        },
    )
    failed = deployment("failed", error_code="too_large", error_message="9 bytes do not fit")
    failed["failure"] = {
        "code": "too_large",
        "summary": "The model does not fit.",
        "next_step": "Free some space.",
        "retry": True,
    }
    api.get(f"{SERVER}/api/deployments/{DEPLOYMENT_ID}", json=failed)
    code = cli_main.main(["deploy", "yolo-720", "--device", "desk", "--wait"], poll_seconds=0)
    err = capsys.readouterr().err
    assert code == 1
    assert "The deployment failed: The model does not fit. Free some space." in err
    assert "The device reported: 9 bytes do not fit (too_large)" in err


def test_already_installed_is_success(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=201,
        json={
            "results": [
                {
                    "device_id": DEVICE_ID,
                    "outcome": "already_installed",
                    "deployment": deployment("installed"),
                }
            ]
        },
    )
    code, data = run(capsys, "--wait")
    assert code == 0 and data["outcome"] == "already_installed"


def test_chip_mismatch_is_bad_input(api, capsys):
    api.post(
        f"{SERVER}/api/deployments",
        status=400,
        json={
            "error": {
                "code": "chip_mismatch",
                "message": "The model is not for this chip.",
                "details": {"devices": [], "model_chips": ["KL720"]},
                "request_id": "r",
            }
        },
    )
    code, data = run(capsys)
    assert code == 2 and data["error"]["code"] == "chip_mismatch"


def test_an_unknown_device_is_bad_input(api, capsys):
    code = cli_main.main(["deploy", "yolo-720", "--device", "nope", "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "device_not_found"


def test_a_server_error_exits_4(api, capsys):
    api.post(f"{SERVER}/api/deployments", status=503, body="busy")
    code, data = run(capsys)
    assert code == 4 and data["error"]["status"] == 503
