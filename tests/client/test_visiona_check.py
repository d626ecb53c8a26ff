"""``visiona check MODEL.onnx --chip 720 [--json]``: exit 0 with warnings, 2 on a blocker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.main import main

from tests import onnx_models as om

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"


@pytest.fixture
def model_file(tmp_path):
    def write(built, name="model.onnx"):
        path = tmp_path / name
        onnx.save_model(built, str(path))
        return path

    return write


def test_warnings_only_exit_0(model_file, capsys):
    path = model_file(om.model(("Conv", "Softmax")))
    assert main(["check", str(path), "--chip", "720"]) == exit_codes.OK == 0
    out = capsys.readouterr().out
    assert "Pre-flight for KL720: OK" in out and "[cpu_operator] Softmax" in out


def test_a_blocker_exits_2_and_names_the_operator(model_file, capsys):
    path = model_file(om.model(("MyOp",), domain="com.example"))
    assert main(["check", str(path), "--chip", "KL720"]) == exit_codes.BAD_INPUT == 2
    assert "com.example::MyOp" in capsys.readouterr().out


def test_json_output(model_file, capsys):
    path = model_file(om.model(("Softmax",), input_shape=[4, 3, 8, 8]))
    assert main(["check", str(path), "--chip", "KL720", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["chip"] == "KL720" and report["blockers"] == []
    assert [w["code"] for w in report["warnings"]] == ["cpu_operator", "batch_size"]


def test_json_with_a_blocker(tmp_path, capsys):
    pointer = tmp_path / "pointer.onnx"
    pointer.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n")
    assert main(["check", str(pointer), "--chip", "520", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["blockers"][0]["code"] == "lfs_pointer"


def test_a_missing_file_is_bad_input(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.onnx"), "--chip", "720"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_an_unknown_chip_is_a_usage_error(model_file, capsys):
    path = model_file(om.model())
    with pytest.raises(SystemExit) as exited:
        main(["check", str(path), "--chip", "KL999"])
    assert exited.value.code == 2
    assert "unknown chip" in capsys.readouterr().err


def test_it_runs_as_its_own_process_without_django(model_file):
    path = model_file(om.model(("Relu",)))
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(CLIENT_DIR)}
    code = (
        "import sys; from visiona_client.visiona_cli.main import main; "
        "r = main(sys.argv[1:]); assert 'django' not in sys.modules; sys.exit(r)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "check", str(path), "--chip", "730", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chip"] == "KL730"
