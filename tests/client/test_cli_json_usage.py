"""Usage errors (argparse's refusals) with ``--json``: still exactly one JSON object on
stdout, as docs/cli.md promises for errors, and exit 2; without ``--json``, nothing on
stdout."""

from __future__ import annotations

import json

import pytest
from visiona_client.visiona_cli import main as cli_main


@pytest.mark.parametrize(
    "arguments",
    [
        ["--json", "deploy", "yolo"],  # no --device
        ["--json", "jobs", "--since", "yesterday"],  # a bad value
        ["jobs", "--json", "--no-such-option"],  # --json after the command
    ],
)
def test_a_usage_error_with_json_is_one_json_object(capsys, arguments):
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(arguments)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["code"] == "usage" and error["exit_code"] == 2
    assert error["details"]["usage"].startswith("usage: visiona")
    assert "error:" in captured.err  # people still get argparse's usage and message


def test_a_usage_error_without_json_prints_nothing_on_stdout(capsys):
    with pytest.raises(SystemExit):
        cli_main.main(["deploy", "yolo"])
    assert capsys.readouterr().out == ""
