"""What ``visiona run`` says about the agreement when it has no figures: "no reference"
only when there is none; and where figures computed here came from."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from visiona_client.visiona_cli import run as run_command
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.run_report import report


def said(run: dict) -> str:
    out = io.StringIO()
    report(Output(as_json=False, out=out, err=io.StringIO()), run, None, [], reference_source="")
    return out.getvalue()


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_a_run_that_did_not_complete_is_not_said_to_lack_a_reference(state):
    run = {"id": "r1", "state": state, "reference": {"state": "pending", "error": ""}}
    text = said(run)
    assert "no reference" not in text
    assert f"Agreement: none, as the run {state}" in text


def test_a_reference_visiona_could_not_compute_says_why():
    run = {"id": "r1", "state": "completed", "reference": {"state": "failed", "error": "opset 21"}}
    assert "Agreement: visionA could not compute it: opset 21" in said(run)


def test_a_model_without_its_onnx_has_no_reference():
    run = {"id": "r1", "state": "completed", "reference": {"state": "none", "error": ""}}
    assert "no reference (give --reference model.onnx" in said(run)


def test_figures_computed_here_name_the_onnx_they_came_from():
    reference = SimpleNamespace(model=Path("/tmp/converted/yolo.onnx"))
    assert run_command._source(reference, {}) == "computed here from yolo.onnx"
