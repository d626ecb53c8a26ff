"""``visiona runs``: the runs made, newest first, and one run again. A run ``visiona run``
stopped following (``--timeout``) is followed to its end by ``runs show --wait``, with
the same report and exit codes; ``show`` of an ended run gates like ``run --expect``
(against the fake visionA of tests/client/fake_visiona_runs.py)."""

from __future__ import annotations

import json

import pytest
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import inputs, visiona  # noqa: F401  (fixtures)
from tests.client.fake_visiona_runs import RunScript

WRONG_SHAPE = ("invalid_input", "the input image takes shape [1, 3, 64, 64], not [2, 2]")


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = cli_main.main([*argv, "--json"], poll_seconds=0.01)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def made_run(visiona, capsys, inputs) -> str:  # noqa: F811
    """A run started by ``visiona run`` that stopped following at once."""
    code, data, _ = cli(
        capsys,
        "run",
        "Person detector",
        "--device",
        "demo-desk",
        "--inputs",
        str(inputs),
        "--timeout",
        "0.001",
    )
    assert code == exit_codes.SERVER and data["error"]["code"] == "wait_timeout"
    return data["error"]["details"]["run_id"]


def test_a_run_left_behind_is_followed_to_its_end(visiona, inputs, capsys):  # noqa: F811
    run_id = made_run(visiona, capsys, inputs)
    code, data, _ = cli(capsys, "runs", "show", run_id, "--wait", "--expect", "cosine>=0.99")
    assert code == exit_codes.OK
    assert data["run"]["state"] == "completed"
    assert data["expectations"] == [{"expectation": "cosine>=0.99", "value": 0.995, "passed": True}]
    assert data["run"]["id"] == run_id


def test_an_ended_run_gates_as_run_does(visiona, inputs, capsys):  # noqa: F811
    visiona.run_script = RunScript(failed_inputs={1: WRONG_SHAPE})
    run_id = made_run(visiona, capsys, inputs)
    cli(capsys, "runs", "show", run_id, "--wait")
    code, data, _ = cli(capsys, "runs", "show", run_id, "--expect", "cosine>=0.999")
    assert code == exit_codes.FAILURE  # a refused input comes before the expectation
    assert data["error"]["code"] == "inputs_failed"
    assert data["failed_inputs"][0]["name"] == "b.png"


def test_an_unfinished_run_without_wait_says_how_to_follow_it(visiona, inputs, capsys):  # noqa: F811
    run_id = made_run(visiona, capsys, inputs)
    visiona.runs[run_id]["state"] = "pending"  # the fake moves it one step a read
    code = cli_main.main(["runs", "show", run_id], poll_seconds=0.01)
    captured = capsys.readouterr()
    assert code == exit_codes.OK
    assert f"visiona runs show {run_id} --wait" in captured.err


def test_the_list_is_newest_first_and_filters_by_state(visiona, inputs, capsys):  # noqa: F811
    first = made_run(visiona, capsys, inputs)
    second = made_run(visiona, capsys, inputs)
    cli(capsys, "runs", "show", first, "--wait")
    code, data, _ = cli(capsys, "runs")
    assert code == exit_codes.OK
    assert [run["id"] for run in data["runs"]] == [second, first]
    _, data, _ = cli(capsys, "runs", "ls", "--state", "completed")
    assert [run["id"] for run in data["runs"]] == [first]
    assert any(path.startswith("GET /api/runs") for path in visiona.user_paths)
    table = cli_main.main(["runs", "ls", "--limit", "1"])
    rows = capsys.readouterr().out.splitlines()
    assert table == exit_codes.OK and len(rows) == 2 and rows[1].startswith(second)


@pytest.mark.parametrize("raw", ["12", "not-a-run"])
def test_a_run_id_that_is_none_is_refused_before_any_request(visiona, capsys, raw):  # noqa: F811
    code, data, _ = cli(capsys, "runs", "show", raw)
    assert code == exit_codes.BAD_INPUT
    assert data["error"]["code"] == "run_not_found"
    assert not any("/api/runs/" in path for path in visiona.user_paths)
