"""``visiona run``'s exit codes, over real HTTP against the fake visionA
(tests/client/fake_visiona.py): 0 when the run completed and every expectation held,
5 when one did not, 1 when the run failed on the device, 2 for bad input (nothing is
sent), and ``--json`` carries the figures every time (docs/cli.md, "Exit codes")."""

# The fixtures visiona and inputs come from cli_helpers (imported below): their names
# are reused as the tests' arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
import sys

import pytest
from visiona_client.inference_contract import starts_as
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import inputs, visiona  # noqa: F401  (fixtures)
from tests.client.fake_visiona_runs import RUN_DEVICE, RunScript


def run(capsys, inputs, *arguments: str) -> tuple[int, dict, str]:
    # One --device (a second is a usage error): the test's own, or demo-desk.
    device = [] if "--device" in arguments else ["--device", "demo-desk"]
    argv = ["run", "Person detector", *device, "--inputs", str(inputs)]
    code = cli_main.main([*argv, "--json", *arguments], poll_seconds=0.01)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_a_run_that_meets_its_expectations_exits_0_with_its_figures(visiona, inputs, capsys):
    code, data, _ = run(capsys, inputs, "--expect", "cosine>=0.99,p90_ms<=5", "--repeat", "3")
    assert code == 0
    assert "error" not in data
    assert data["run"]["state"] == "completed" and data["run"]["runtime"] == "demo, CPU"
    assert data["figures"]["cosine"] == 0.995 and data["figures"]["p50_ms"] == 3.0
    assert data["figures"]["throughput"] == 312.5 and data["figures"]["top1"] == 1.0
    assert [c["passed"] for c in data["expectations"]] == [True, True]
    [upload] = visiona.run_uploads.values()
    assert upload["inputs"] == ["a.png", "b.png"]
    assert upload["fields"]["repeat"] == "3" and upload["fields"]["device_id"].startswith("6f1c")


def test_a_failed_expectation_exits_5_and_says_which(visiona, inputs, capsys):
    code, data, _ = run(capsys, inputs, "--expect", "cosine>=0.999,p50_ms<=10")
    assert code == 5
    checks = {c["expectation"]: (c["value"], c["passed"]) for c in data["expectations"]}
    assert checks == {"cosine>=0.999": (0.995, False), "p50_ms<=10": (3.0, True)}
    assert (data["error"]["code"], data["error"]["exit_code"]) == ("expectation_failed", 5)
    assert data["error"]["details"]["expectations"] == [
        {"expectation": "cosine>=0.999", "value": 0.995, "passed": False}
    ]


def test_a_figure_not_measured_fails_its_expectation(visiona, inputs, capsys):
    visiona.run_script = RunScript(agreement=None)
    code, data, _ = run(capsys, inputs, "--expect", "top1>=0.9")
    assert code == 5
    assert data["expectations"] == [{"expectation": "top1>=0.9", "value": None, "passed": False}]
    assert data["figures"]["p50_ms"] == 3.0


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_a_run_that_failed_on_the_device_exits_1(visiona, inputs, capsys, state):
    visiona.run_script = RunScript(
        state=state,
        error_code="model_not_runnable",
        error_message="a real Kneron NEF: only a chip runs it",
        latency=None,
        agreement=None,
    )
    code, data, err = run(capsys, inputs, "--expect", "cosine>=0.99")
    assert code == 1
    assert data["run"]["state"] == state
    assert data["run"]["error_code"] == "model_not_runnable"
    assert (data["error"]["code"], data["error"]["exit_code"]) == (f"run_{state}", 1)
    assert f": {state} · 0/2 inputs" in err  # what people follow on stderr


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--expect", "cosine=>0.99"], "--expect"),
        (["--expect", "speed>=1"], "is not a figure"),
        (["--repeat", "0"], "--repeat"),
        (["--device", "no-such-device"], "device_not_found"),
    ],
)
def test_bad_input_exits_2_and_starts_no_run(visiona, inputs, capsys, arguments, error):
    code, data, err = run(capsys, inputs, *arguments)
    assert code == 2
    assert error in json.dumps(data["error"]) + err
    assert visiona.runs == {}


def test_a_missing_inputs_folder_exits_2(visiona, tmp_path, capsys):
    code, data, err = run(capsys, tmp_path / "nowhere")
    assert code == 2 and data["error"]["exit_code"] == 2
    assert "nowhere" in err and visiona.runs == {}


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("notes.png", b"my notes, not a picture", "an image"),
        ("x.npy", b"PK\x03\x04 a zip", "a .npy tensor"),
        ("x.npz", b"\x93NUMPY one tensor", "a .npz of tensors"),
    ],
)
def test_an_input_that_is_not_what_its_name_says_exits_2_before_anything_is_sent(
    visiona, inputs, capsys, name, content, kind
):
    (inputs / name).write_bytes(content)
    code, data, err = run(capsys, inputs)
    assert code == 2
    assert data["error"]["code"] == "input_not_accepted"
    assert f"{name}: named like {kind}, but it is none inside" in err
    assert visiona.runs == {}


def test_an_input_is_judged_by_its_start_not_by_how_its_name_ends():
    assert starts_as("image/jpeg", b"\x89PNG\r\n\x1a\n")  # a PNG named .jpg
    assert starts_as("image/bmp", b"BM6\x00\x00\x00\x00\x00")
    assert starts_as("application/x-npz", b"PK\x05\x06\x00\x00\x00\x00")  # an empty zip
    assert not starts_as("image/png", b"")
    assert not starts_as("text/plain", b"\x89PNG\r\n\x1a\n")


def test_reference_without_the_validate_extra_exits_2_naming_it(
    visiona, inputs, tmp_path, capsys, monkeypatch
):
    # None in sys.modules makes `import onnxruntime` raise ImportError, as when the
    # validate extra was not installed.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    model = tmp_path / "model.onnx"
    model.write_bytes(b"an ONNX model")
    code, data, err = run(capsys, inputs, "--reference", str(model))
    assert code == 2
    assert data["error"]["code"] == "validate_extra_missing"
    assert "pip install 'visiona-client[validate]'" in err
    assert visiona.runs == {}


def run_text(capsys, inputs, *arguments: str) -> tuple[int, str, str]:
    """``run`` as people read it (no --json): the report on stdout."""
    argv = ["run", "Person detector", "--device", "demo-desk", "--inputs", str(inputs)]
    code = cli_main.main([*argv, *arguments], poll_seconds=0.01)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


WRONG_SHAPE = ("invalid_input", "the input image takes shape [1, 3, 64, 64], not [2, 2]")


def test_an_input_the_device_refused_is_named_and_the_run_exits_1(visiona, inputs, capsys):
    visiona.run_script = RunScript(failed_inputs={1: WRONG_SHAPE})
    code, data, _ = run(capsys, inputs, "--expect", "cosine>=0.99")
    assert code == 1  # completed, but not on every input it was given
    assert data["run"]["state"] == "completed"
    assert data["failed_inputs"] == [
        {"index": 1, "name": "b.png", "error_code": WRONG_SHAPE[0], "error_message": WRONG_SHAPE[1]}
    ]
    assert data["expectations"][0]["passed"] is True  # a.png's figures: still shown
    assert data["error"]["code"] == "inputs_failed"
    assert data["error"]["details"]["failed_inputs"] == data["failed_inputs"]

    visiona.run_script = RunScript(failed_inputs={1: WRONG_SHAPE})
    code, out, _ = run_text(capsys, inputs)
    assert code == 1
    assert "completed, but the device refused 1 of 2 inputs" in out
    assert f"input b.png: {WRONG_SHAPE[0]}: {WRONG_SHAPE[1]}" in out


def test_a_run_whose_every_input_failed_exits_1_and_its_gates_fail(visiona, inputs, capsys):
    visiona.run_script = RunScript(failed_inputs={0: WRONG_SHAPE, 1: WRONG_SHAPE})
    code, data, _ = run(capsys, inputs, "--expect", "p50_ms<=20,max_abs<=0.1")
    assert code == 1
    assert [entry["name"] for entry in data["failed_inputs"]] == ["a.png", "b.png"]
    # Nothing was measured: a gate on a figure that could not be computed fails.
    assert [(c["value"], c["passed"]) for c in data["expectations"]] == [(None, False)] * 2

    visiona.run_script = RunScript(failed_inputs={0: WRONG_SHAPE, 1: WRONG_SHAPE})
    code, out, _ = run_text(capsys, inputs)
    assert code == 1
    assert "Agreement: none: the device refused every input" in out
    assert "no reference" not in out
    assert f"input a.png: {WRONG_SHAPE[0]}: {WRONG_SHAPE[1]}" in out


def test_outputs_that_name_a_file_exit_2_before_anything_is_sent(visiona, inputs, tmp_path, capsys):
    taken = tmp_path / "results.txt"
    taken.write_text("mine")
    code, data, err = run(capsys, inputs, "--outputs", str(taken))
    assert code == 2
    assert data["error"]["code"] == "outputs_not_a_folder"
    assert f"--outputs {taken}: it is a file, not a folder. Nothing was sent." in err
    assert visiona.runs == {} and taken.read_text() == "mine"


def test_the_outputs_are_saved_one_npz_an_input(visiona, inputs, tmp_path, capsys):
    code, _, err = run(capsys, inputs, "--outputs", str(tmp_path / "out" / "run1"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out" / "run1").iterdir()) == [
        "000-a.npz",
        "001-b.npz",
    ]


def test_outputs_that_cannot_be_written_after_the_run_come_after_its_report(
    visiona, inputs, tmp_path, capsys, monkeypatch
):
    def disk_full(self, data):
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(type(tmp_path), "write_bytes", disk_full)
    code, out, err = run_text(capsys, inputs, "--outputs", str(tmp_path / "out"))
    assert code == 2
    assert "Latency (demo, CPU): p50 3.000 ms" in out  # the run's figures are not lost
    assert f"Could not save the outputs to {tmp_path / 'out'}: No space left on device" in err


def test_a_model_not_built_for_the_devices_chip_exits_2_before_anything_is_sent(
    visiona, inputs, capsys, monkeypatch
):
    monkeypatch.setitem(RUN_DEVICE, "chip", "KL520")
    code, data, err = run(capsys, inputs)
    assert code == 2
    assert data["error"]["code"] == "chip_mismatch"
    assert "“Person detector” is built for KL720; demo-desk has a KL520. Nothing was run." in err
    assert data["error"]["details"]["chips"] == ["KL720"]
    assert visiona.runs == {}


def test_an_empty_inputs_folder_is_named(visiona, tmp_path, capsys):
    empty = tmp_path / "emptydir"
    empty.mkdir()
    code, _, err = run(capsys, empty)
    assert code == 2
    assert f"{empty} has no .png, .jpg, .jpeg, .bmp, .npy or .npz files." in err
    assert visiona.runs == {}
