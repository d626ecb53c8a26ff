"""What a command would ignore or mis-send is refused before any request (exit 2), and
what visionA refuses is said in the user's terms:
- options that mean something only beside another (``convert --expect`` without
  ``--run-on``, ``jobs --save`` without a JOB_ID), and a blank ``--save``;
- a repeated ``--device`` (argparse kept the last one: ``deploy`` went to one device);
- ``--model-id`` outside the server's range, ``--limit 0``, ``--since`` after ``--until``;
- visionA's validation_failed names each field, as the options spell them;
- a server URL that is not visionA's, or not a URL at all.
(Answers from ``responses``; any request where none is expected fails the test.)"""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-0000000000b2"


@pytest.fixture
def nothing_sent(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path / "config")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        assert len(mock.calls) == 0, "the CLI sent something"


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"onnx")
    return path


def refused(capsys, *argv: str) -> str:
    code = cli_main.main(list(argv))
    captured = capsys.readouterr()
    assert code == exit_codes.BAD_INPUT, (code, captured.err)
    return captured.err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--expect", "cosine>=0.99"], "--expect goes with --run-on DEVICE"),
        (["--inputs", "x.png", "--repeat", "5"], "--inputs, --repeat go with --run-on DEVICE"),
        (["--scale", "byte"], "--scale goes with --run-on"),
        (["--outputs", "out"], "--outputs goes with --run-on"),
        (["--save", " "], "--save needs a name that is not blank"),
    ],
)
def test_convert_refuses_what_it_would_ignore(nothing_sent, model, capsys, extra, named):
    err = refused(capsys, "convert", str(model), "--chip", "720", "--no-check", *extra)
    assert named in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["jobs", "--save", "v2"], "--save needs a job: visiona jobs JOB_ID --save"),
        (["jobs", "--wait", "--download", "out"], "--wait, --download need a job"),
        (["jobs", JOB_ID, "--status", "failed"], "--status: for the list of jobs"),
        (["jobs", JOB_ID, "--save", "  "], "--save needs a name that is not blank"),
        (
            ["jobs", "--since", "2026-12-09", "--until", "2026-12-01"],
            "--since must come before --until",
        ),
        (
            ["jobs", "--since", "2026-12-01T12:00:00+08:00", "--until", "2026-12-01T03:00:00Z"],
            "--since must come before --until",
        ),
        (["jobs", "--limit", "0"], "invalid positive whole number value: '0'"),
        (["convert", "m.onnx", "--chip", "720", "--model-id", "5"], "invalid model id"),
        (["convert", "m.onnx", "--chip", "720", "--run-on", "a", "--run-on", "b"], "one value"),
        (["run", "m", "--device", "a", "--device", "b", "--inputs", "x"], "once per device"),
    ],
)
def test_refused_before_any_request(nothing_sent, capsys, argv, named):
    try:
        err = refused(capsys, *argv)
    except SystemExit as exit_:  # argparse's refusals exit
        assert exit_.code == exit_codes.BAD_INPUT
        err = capsys.readouterr().err
    assert named in err


def test_the_model_id_range_is_the_servers(nothing_sent, model, capsys):
    for model_id in ("32767", "65536"):
        with pytest.raises(SystemExit):
            cli_main.main(["convert", str(model), "--chip", "720", "--model-id", model_id])
    assert "invalid model id (32768-65535)" in capsys.readouterr().err


def test_a_repeated_device_is_refused_with_the_way_to_reach_several(nothing_sent, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main.main(["deploy", "yolo", "--device", "desk", "--device", "lab", "--json"])
    assert exit_.value.code == exit_codes.BAD_INPUT
    captured = capsys.readouterr()
    assert "--device takes one value, given more than once" in captured.err
    assert "visiona rollout create MODEL --group NAME" in captured.err
    assert json.loads(captured.out)["error"]["code"] == "usage"


def test_validation_failed_names_each_field_as_the_options_spell_it(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    fields = [
        {"field": "phases.0", "message": "This value does not match the required pattern."},
        {"field": "wait_seconds", "message": "Ensure this value is greater than or equal to 10."},
        {"field": "name", "message": "This field may not be blank."},
    ]
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/api/conversion/", status=400, json=_validation_failed(fields))
        code = cli_main.main(["jobs"])
    assert code == exit_codes.BAD_INPUT
    err = capsys.readouterr().err.splitlines()
    assert err[-3:] == [
        "  --phases (item 1): This value does not match the required pattern.",
        "  --wait-minutes (sent in seconds): Ensure this value is greater than or equal to 10.",
        "  name: This field may not be blank.",
    ]


def _validation_failed(fields: list[dict]) -> dict:
    return {
        "error": {
            "code": "validation_failed",
            "message": "Some of the values you sent are not valid.",
            "details": {"fields": fields},
            "request_id": "r1",
        }
    }


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "body": "<html>Not Found</html>", "content_type": "text/html"},
        {"status": 200, "body": "<html>a site</html>", "content_type": "text/html"},
    ],
    ids=["404", "a-page"],
)
def test_login_to_a_url_that_is_not_visionas_says_so(monkeypatch, tmp_path, capsys, answer):
    monkeypatch.setenv("VISIONA_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("VISIONA_TOKEN", "vap_x")
    monkeypatch.delenv("VISIONA_SERVER", raising=False)
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/api/api/auth/me", **answer)
        code = cli_main.main(["login", "--server", f"{SERVER}/api/", "--json"])
    assert code == exit_codes.BAD_INPUT
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "not_visiona"
    assert "does not look like visionA" in error["message"]
    assert "without /api/" in error["message"]


def test_a_server_without_a_scheme_is_refused_not_sent_to_login(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    monkeypatch.delenv("VISIONA_TOKEN", raising=False)
    code = cli_main.main(["whoami", "--server", "127.0.0.1:8320", "--json"])
    assert code == exit_codes.BAD_INPUT
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "bad_server"
    assert "http://HOST:PORT" in error["message"]


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "download", "yolo", "-o", "{tmp}/new-folder/"],
        ["jobs", JOB_ID, "--download", "{tmp}/no-such-folder/yolo.nef"],
        ["convert", "m.onnx", "--chip", "720", "--download", "{tmp}/new-folder/"],
    ],
)
def test_a_download_path_in_no_folder_is_refused_before_anything(
    nothing_sent, tmp_path, capsys, argv
):
    with pytest.raises(SystemExit) as exit_:
        cli_main.main([part.format(tmp=tmp_path) for part in argv])
    assert exit_.value.code == exit_codes.BAD_INPUT
    assert "invalid download path (an existing folder, or a file in one)" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "new-folder").exists()
