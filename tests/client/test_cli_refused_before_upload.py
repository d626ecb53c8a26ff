"""What visionA would refuse only after a whole upload (a scope the token lacks, a
conversion already running) is asked first, with a small request, and refused at once
with visionA's own message, code and exit code; a check that cannot be made leaves the
decision to visionA (answers from ``responses``)."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000f"
ACTIVE = {
    "job_id": JOB_ID,
    "status": "running",
    "stage": "bie",
    "progress": 30,
    "created_at": "2026-01-01T00:00:00Z",
    "chip": "KL720",
    "filename": "other.onnx",
}


def me(*scopes: str) -> dict:
    return {"user": {"username": "alice"}, "means": "token", "scopes": list(scopes)}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.upload = mock.post(
            f"{SERVER}/api/conversion/init", json={**ACTIVE, "status": "created"}, status=201
        )
        yield mock


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"onnx" * 1024)
    return path


def convert(model, *extra: str) -> int:
    return cli_main.main(["convert", str(model), "--chip", "720", "--no-check", *extra])


def test_a_token_without_convert_is_refused_before_the_upload(api, model, capsys):
    api.get(f"{SERVER}/api/auth/me", json=me("read"))
    assert convert(model, "--json") == exit_codes.AUTH
    assert api.upload.call_count == 0
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["code"] == "token_scope_missing" and error["status"] == 403
    assert error["message"] == (
        "This API token lacks the “convert” scope this needs. Create a token with “convert” "
        f"ticked on the API tokens page ({SERVER}/tokens/) and use it instead: a token's "
        "scopes cannot be changed."
    )
    assert error["details"] == {
        "required": "convert",
        "granted": ["read"],
        "tokens_url": f"{SERVER}/tokens/",
    }
    assert f"Create one at {SERVER}/tokens/ (tick `convert`)" in captured.err


def test_following_the_job_needs_read_too(api, model):
    api.get(f"{SERVER}/api/auth/me", json=me("convert"))
    assert convert(model, "--wait") == exit_codes.AUTH
    assert api.upload.call_count == 0


def test_a_conversion_already_running_is_refused_before_the_upload(api, model, capsys):
    api.get(f"{SERVER}/api/auth/me", json=me("read", "convert"))
    api.get(f"{SERVER}/api/conversion/active", json={"job": ACTIVE})
    assert convert(model, "--json") == exit_codes.FAILURE
    assert api.upload.call_count == 0
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert (error["code"], error["status"]) == ("active_job_exists", 409)
    assert error["message"] == (
        "You already have a conversion in progress. Wait for it to finish first."
    )
    assert error["details"]["active_job"] == {
        "job_id": JOB_ID,
        "status": "running",
        "stage": "bie",
        "progress": 30,
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert f"visiona jobs {JOB_ID} --wait" in captured.err
    assert f"visiona cancel job {JOB_ID}" in captured.err


def test_when_nothing_stands_in_the_way_the_upload_goes_on(api, model, capsys):
    api.get(f"{SERVER}/api/auth/me", json=me("read", "convert"))
    api.get(f"{SERVER}/api/conversion/active", json={"job": None})
    assert convert(model) == exit_codes.OK
    assert api.upload.call_count == 1
    assert capsys.readouterr().out == f"{JOB_ID}\n"


@pytest.mark.parametrize("status", [500, 404])
def test_a_check_that_cannot_be_made_leaves_it_to_visiona(api, model, status):
    api.get(f"{SERVER}/api/auth/me", status=status, json={"error": {"code": "x"}})
    api.get(f"{SERVER}/api/conversion/active", status=status, json={"error": {"code": "x"}})
    assert convert(model) == exit_codes.OK
    assert api.upload.call_count == 1


def test_a_token_visiona_refuses_is_refused_before_the_upload(api, model, capsys):
    api.get(
        f"{SERVER}/api/auth/me",
        status=401,
        json={"error": {"code": "token_revoked", "message": "This API token has been revoked."}},
    )
    assert convert(model) == exit_codes.AUTH
    assert api.upload.call_count == 0
    assert "(token_revoked)" in capsys.readouterr().err


def test_run_asks_for_deploy_before_sending_its_inputs(api, tmp_path, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    api.get(f"{SERVER}/api/auth/me", json=me("read", "convert"))
    arguments = ["run", "sample", "--device", "bench", "--inputs", str(inputs)]
    assert cli_main.main(arguments) == exit_codes.AUTH
    assert [call.request.path_url for call in api.calls] == ["/api/auth/me"]
    assert "(tick `deploy`)" in capsys.readouterr().err


def test_keep_onnx_without_save_is_refused_before_anything_is_asked(api, model, capsys):
    assert convert(model, "--keep-onnx") == exit_codes.BAD_INPUT
    assert len(api.calls) == 0
    assert "--keep-onnx needs --save NAME" in capsys.readouterr().err


def test_keep_onnx_goes_with_run_on_which_keeps_it_anyway(api, model, capsys):
    api.get(f"{SERVER}/api/auth/me", json=me("read"))  # then refused for its scopes
    code = convert(model, "--keep-onnx", "--run-on", "bench", "--inputs", str(model))
    assert "--keep-onnx needs" not in capsys.readouterr().err
    assert code != exit_codes.OK


def test_another_upload_still_streaming_is_refused_before_the_upload(api, model, capsys):
    api.get(f"{SERVER}/api/auth/me", json=me("read", "convert"))
    api.get(f"{SERVER}/api/conversion/active", json={"job": None, "upload_in_progress": True})
    assert convert(model, "--json") == exit_codes.FAILURE
    assert api.upload.call_count == 0
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["code"], error["status"]) == ("upload_in_progress", 409)
    assert error["message"] == (
        "You are already uploading a model. Wait for that upload to finish first."
    )
