"""``visiona convert MODEL.onnx … --run-on DEVICE`` over real HTTP against the fake
visionA (tests/client/fake_visiona_runs.py): without onnxruntime here, or with one that
cannot load the model, the agreement is visionA's, and a deployment that does not
install exits 1 with nothing run (docs/cli.md, "Runs and the CI gate")."""

# The fixtures visiona and inputs come from cli_helpers (imported below): their names
# are reused as the tests' arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
import sys

import pytest
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import inputs, visiona  # noqa: F401  (fixtures)
from tests.client.fake_visiona_runs import RUN_DEVICE, DeploymentScript


@pytest.fixture
def model(tmp_path):
    # Not ONNX: onnxruntime, where installed, cannot load it.
    path = tmp_path / "detector.onnx"
    path.write_bytes(b"not an ONNX model")
    return path


def convert_and_run(capsys, model, inputs, *arguments: str) -> tuple[int, dict, str]:
    argv = ["convert", str(model), "--chip", "720", "--no-check", "--save", "detector"]
    argv += ["--run-on", RUN_DEVICE["name"], "--inputs", str(inputs), "--json", *arguments]
    code = cli_main.main(argv, poll_seconds=0.01)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize("missing", ["onnxruntime", "visiona_client.tensors"])
def test_without_the_validate_extra_visiona_computes_the_agreement(
    visiona, model, inputs, capsys, monkeypatch, missing
):
    # None in sys.modules makes importing it raise ImportError: onnxruntime not
    # installed, or (visiona_client.tensors, which needs numpy and Pillow) the extra
    # only half there.
    monkeypatch.setitem(sys.modules, missing, None)
    code, data, err = convert_and_run(capsys, model, inputs, "--expect", "cosine>=0.99")
    assert code == 0, err
    assert visiona.promotions == [{"name": "detector", "keep_onnx": True}]
    assert data["deployment"]["state"] == "installed"
    assert data["run"]["state"] == "completed"
    assert data["agreement"]["cosine"] == 0.995  # visionA's figures, as the script has them
    assert data["expectations"] == [{"expectation": "cosine>=0.99", "value": 0.995, "passed": True}]
    assert "not installed here: visionA computes the agreement" in err
    # The device's outputs were not fetched to be compared here (the inputs are listed,
    # for the ones the device refused).
    assert not [path for path in visiona.user_paths if path.endswith("/output")]


def test_an_onnx_this_onnxruntime_cannot_load_leaves_the_agreement_to_visiona(
    visiona, model, inputs, capsys
):
    # onnxruntime is here (the validate extra), but it cannot load this file: converted
    # and deployed already, the run goes on with visionA's agreement rather than exit 2.
    pytest.importorskip("onnxruntime", reason="the validate extra is not installed")
    code, data, err = convert_and_run(capsys, model, inputs, "--expect", "cosine>=0.99")
    assert code == 0, err
    assert data["run"]["state"] == "completed"
    assert data["agreement"]["cosine"] == 0.995  # visionA's figures
    assert f"onnxruntime cannot load {model}" in err
    assert "visionA computes the agreement" in err
    assert not [path for path in visiona.user_paths if path.endswith("/output")]


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_a_deployment_that_does_not_install_exits_1_and_runs_nothing(
    visiona, model, inputs, capsys, state
):
    visiona.deployment_script = DeploymentScript(
        state=state,
        error_code="sha256_mismatch" if state == "failed" else "",
        error_message="sha256 abc is not the model's" if state == "failed" else "",
        failure={
            "code": "sha256_mismatch",
            "summary": "The file the device received was damaged.",
            "next_step": "Deploy again.",
            "retry": True,
        }
        if state == "failed"
        else None,
    )
    code, data, err = convert_and_run(capsys, model, inputs, "--expect", "cosine>=0.99")
    assert code == 1
    assert data["deployment"]["state"] == state
    assert data["model"]["name"] == "detector"
    assert "run" not in data and "expectations" not in data
    assert visiona.runs == {}
    assert f"The deployment {state}" in err
    if state == "failed":
        assert "The file the device received was damaged. Deploy again." in err


def test_a_device_that_is_not_there_is_refused_before_the_upload(visiona, model, inputs, capsys):
    argv = ["convert", str(model), "--chip", "720", "--no-check", "--save", "x"]
    code = cli_main.main([*argv, "--run-on", "nosuchdevice", "--inputs", str(inputs), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    assert data["error"]["code"] == "device_not_found"
    assert "POST /api/conversion/init" not in visiona.user_paths  # nothing converted
    assert visiona.promotions == []


def test_a_device_of_another_chip_is_refused_before_the_upload(visiona, model, inputs, capsys):
    argv = ["convert", str(model), "--chip", "520", "--no-check", "--save", "x"]
    code = cli_main.main([*argv, "--run-on", "demo-desk", "--inputs", str(inputs), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["error"]["code"] == "chip_mismatch"
    assert "--chip KL520, but demo-desk has a KL720" in captured.err
    assert "POST /api/conversion/init" not in visiona.user_paths


def test_outputs_that_name_a_file_are_refused_before_the_upload(
    visiona, model, inputs, tmp_path, capsys
):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, data, _ = convert_and_run(capsys, model, inputs, "--outputs", str(taken))
    assert code == 2
    assert data["error"]["code"] == "outputs_not_a_folder"
    assert "POST /api/conversion/init" not in visiona.user_paths


def test_the_device_is_looked_up_once(visiona, model, inputs, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    code, _, err = convert_and_run(capsys, model, inputs)
    assert code == 0, err
    assert visiona.user_paths.count("GET /api/devices/") == 1
    assert visiona.user_paths.index("GET /api/devices/") < visiona.user_paths.index(
        "POST /api/conversion/init"
    )
