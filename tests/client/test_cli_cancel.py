"""``visiona cancel job|run|deployment ID``: the API's cancel, its answers as exit codes
(0 cancelled, 1 already finished or not cancellable, 2 unknown), and the commands the CLI
prints for stopping what it stopped following (answers from ``responses``)."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000d"
RUN_ID = "7e1f3c2a-1111-4111-8111-000000000001"
DEPLOYMENT_ID = "5d2e4b1c-2222-4222-8222-000000000002"


def envelope(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "details": {}}}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_it_cancels_a_run(api, capsys):
    api.post(f"{SERVER}/api/runs/{RUN_ID}/cancel", json={"id": RUN_ID, "state": "cancelled"})
    assert cli_main.main(["cancel", "run", RUN_ID]) == exit_codes.OK
    captured = capsys.readouterr()
    assert captured.out == f"{RUN_ID} cancelled\n"
    assert f"Run {RUN_ID} cancelled." in captured.err


def test_it_cancels_a_deployment_with_json(api, capsys):
    api.post(
        f"{SERVER}/api/deployments/{DEPLOYMENT_ID}/cancel",
        json={"id": DEPLOYMENT_ID, "state": "cancelled"},
    )
    assert cli_main.main(["cancel", "deployment", DEPLOYMENT_ID, "--json"]) == exit_codes.OK
    out = json.loads(capsys.readouterr().out)
    assert out == {"deployment": {"id": DEPLOYMENT_ID, "state": "cancelled"}}


def test_a_cancelled_job_and_one_still_stopping(api, capsys):
    failed = {"code": "cancelled", "message": "cancelled", "stage": "nef", "hint": None}
    api.post(
        f"{SERVER}/api/conversion/{JOB_ID}/cancel",
        json={"job_id": JOB_ID, "status": "failed", "error": failed},
    )
    assert cli_main.main(["cancel", "job", JOB_ID]) == exit_codes.OK
    assert capsys.readouterr().out == f"{JOB_ID} cancelled\n"
    api.post(
        f"{SERVER}/api/conversion/{JOB_ID}/cancel",
        json={"job_id": JOB_ID, "status": "running", "stage": "nef", "progress": 40},
    )
    assert cli_main.main(["cancel", "job", JOB_ID]) == exit_codes.OK
    assert "cancel sent; it is running · compilation (NEF) · 40% for now" in capsys.readouterr().err


def test_an_already_finished_run_says_how_it_ended_and_exits_1(api, capsys):
    api.post(
        f"{SERVER}/api/runs/{RUN_ID}/cancel",
        status=409,
        json=envelope("run_finished", "This run has already finished."),
    )
    api.get(f"{SERVER}/api/runs/{RUN_ID}", json={"id": RUN_ID, "state": "completed"})
    assert cli_main.main(["cancel", "run", RUN_ID, "--json"]) == exit_codes.FAILURE
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["code"] == "run_finished"
    assert error["message"] == (
        f"Run {RUN_ID} has already finished (completed): nothing was cancelled."
    )
    assert error["details"]["state"] == "completed"
    assert "nothing was cancelled" in captured.err


def test_an_already_finished_job_is_named_as_the_list_names_it(api, capsys):
    api.post(
        f"{SERVER}/api/conversion/{JOB_ID}/cancel",
        status=409,
        json=envelope("job_not_cancellable", "This conversion has already finished."),
    )
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json={"job_id": JOB_ID, "status": "completed"})
    assert cli_main.main(["cancel", "job", JOB_ID]) == exit_codes.FAILURE
    assert "has already finished (completed)" in capsys.readouterr().err


def test_an_unknown_deployment_exits_2(api, capsys):
    api.post(
        f"{SERVER}/api/deployments/{DEPLOYMENT_ID}/cancel",
        status=404,
        json=envelope("deployment_not_found", "This deployment does not exist or is not yours."),
    )
    assert cli_main.main(["cancel", "deployment", DEPLOYMENT_ID]) == exit_codes.BAD_INPUT
    assert "does not exist or is not yours. (deployment_not_found)" in capsys.readouterr().err


def test_a_converter_that_cannot_cancel_is_a_refusal(api, capsys):
    api.post(
        f"{SERVER}/api/conversion/{JOB_ID}/cancel",
        status=501,
        json=envelope("cancel_not_supported", "The converter cannot cancel jobs."),
    )
    assert cli_main.main(["cancel", "job", JOB_ID]) == exit_codes.FAILURE
    assert "(cancel_not_supported)" in capsys.readouterr().err


def test_what_is_not_an_id_is_refused_before_any_request(api, capsys):
    assert cli_main.main(["cancel", "run", "latest", "--json"]) == exit_codes.BAD_INPUT
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "run_not_found"
    assert cli_main.main(["cancel", "job", "../models"]) == exit_codes.BAD_INPUT


def test_ctrl_c_while_following_names_the_cancel_command(api, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("visiona_client.visiona_cli.waiting.Waiting.pause", interrupted)
    api.get(
        f"{SERVER}/api/conversion/{JOB_ID}",
        json={"job_id": JOB_ID, "status": "running", "stage": "bie", "progress": 10},
    )
    assert cli_main.main(["jobs", JOB_ID, "--wait"]) == exit_codes.INTERRUPTED
    assert f"stop it with: visiona cancel job {JOB_ID}" in capsys.readouterr().err
