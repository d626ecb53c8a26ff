"""``visiona jobs JOB --save NAME``: saving is idempotent on visionA (a job saved before
answers its model as it is, under its own name), so the note says whether it was saved
now or already; and ``--keep-onnx`` as ``convert`` has it (answers from ``responses``)."""

from __future__ import annotations

import json

import pytest
import responses
from responses import matchers
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-0000000000a1"
PROMOTE = f"{SERVER}/api/conversion/{JOB_ID}/promote-to-models"


def job(saved_model: dict | None = None) -> dict:
    return {
        "job_id": JOB_ID,
        "status": "completed",
        "stage": "nef",
        "progress": 100,
        "filename": "yolo.onnx",
        "error": None,
        "saved_model": saved_model,
    }


def model(model_id: int, name: str, *, has_reference: bool = False) -> dict:
    return {"model": {"id": model_id, "name": name, "has_reference": has_reference}}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        yield mock


def test_a_job_saved_before_says_so_and_its_real_name(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job({"id": 7, "name": "yolo v1"}))
    api.post(
        PROMOTE, json=model(7, "yolo v1"), match=[matchers.json_params_matcher({"name": "v2"})]
    )
    assert cli_main.main(["jobs", JOB_ID, "--save", "v2", "--json"]) == exit_codes.OK
    captured = capsys.readouterr()
    assert (
        f"Job {JOB_ID} was already saved to My models as “yolo v1” (id 7): not saved again; "
        "it keeps its name, not “v2”." in captured.err
    )
    assert "Saved to My models" not in captured.err
    result = json.loads(captured.out)
    assert (result["model"]["name"], result["already_saved"]) == ("yolo v1", True)


def test_a_name_already_taken_is_said(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job())
    api.post(PROMOTE, json=model(8, "v2 (2)"))
    assert cli_main.main(["jobs", JOB_ID, "--save", "v2", "--json"]) == exit_codes.OK
    captured = capsys.readouterr()
    assert (
        "Saved to My models as “v2 (2)” (id 8): you already have a model named “v2”."
        in captured.err
    )
    assert json.loads(captured.out)["already_saved"] is False


def test_a_plain_save(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job())
    api.post(PROMOTE, json=model(8, "v2"))
    assert cli_main.main(["jobs", JOB_ID, "--save", "v2"]) == exit_codes.OK
    err = capsys.readouterr().err
    assert "Saved to My models as “v2” (id 8).\n" in err


def test_keep_onnx_asks_for_the_onnx_as_convert_does(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job())
    api.post(
        PROMOTE,
        json=model(8, "v2", has_reference=True),
        match=[matchers.json_params_matcher({"name": "v2", "keep_onnx": True})],
    )
    assert cli_main.main(["jobs", JOB_ID, "--save", "v2", "--keep-onnx"]) == exit_codes.OK
    assert "Its ONNX is kept beside it." in capsys.readouterr().err


def test_keep_onnx_without_save_is_refused_before_anything_is_asked(api, capsys):
    assert cli_main.main(["jobs", JOB_ID, "--keep-onnx"]) == exit_codes.BAD_INPUT
    assert len(api.calls) == 0
    assert "--keep-onnx needs --save NAME" in capsys.readouterr().err
