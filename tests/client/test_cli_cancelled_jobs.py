"""``visiona jobs`` lists a cancelled job as cancelled, not as a plain failure, says so
without the failure's advice, and ``--status cancelled`` lists only those (answers from
``responses``)."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main
from visiona_client.visiona_cli.follow import job_line

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000d"


def job(status: str, error: dict | None = None) -> dict:
    return {
        "job_id": JOB_ID,
        "status": status,
        "stage": "nef",
        "progress": 60,
        "chip": "KL720",
        "filename": "yolo.onnx",
        "created_at": "2026-01-01T00:00:00Z",
        "error": error,
    }


CANCELLED = job(
    "failed", {"code": "cancelled", "message": "cancelled", "stage": "nef", "hint": None}
)
FAILED = job(
    "failed",
    {"code": "compile_failed", "message": "no", "stage": "nef", "hint": "Check the chip."},
)


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (CANCELLED, "cancelled"),
        (FAILED, "failed"),
        (job("running"), "running · compilation (NEF) · 60%"),
    ],
)
def test_the_status_column(answer, line):
    assert job_line(answer) == line


def test_the_list_shows_cancelled(api, capsys):
    api.get(
        f"{SERVER}/api/conversion/",
        json={"next": None, "previous": None, "results": [CANCELLED, FAILED]},
    )
    assert cli_main.main(["jobs"]) == exit_codes.OK
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows[0].rstrip().endswith("cancelled")
    assert rows[1].rstrip().endswith("failed")


def test_one_cancelled_job_says_cancelled_without_a_hint(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=CANCELLED)
    assert cli_main.main(["jobs", JOB_ID]) == exit_codes.FAILURE
    err = capsys.readouterr().err
    assert "The conversion was cancelled." in err
    assert "failed" not in err and "Hint" not in err
    assert cli_main.main(["jobs", JOB_ID, "--json"]) == exit_codes.FAILURE
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "job_cancelled"


def test_one_failed_job_keeps_its_hint(api, capsys):
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=FAILED)
    assert cli_main.main(["jobs", JOB_ID, "--json"]) == exit_codes.FAILURE
    captured = capsys.readouterr()
    assert "Hint: Check the chip." in captured.err
    result = json.loads(captured.out)
    assert result["job"]["error"]["code"] == "compile_failed"
    assert (result["error"]["code"], result["error"]["exit_code"]) == ("job_failed", 1)
    assert result["error"]["details"]["job_id"] == JOB_ID


def test_status_cancelled_asks_visiona_for_the_cancelled_ones(api, capsys):
    api.get(
        f"{SERVER}/api/conversion/",
        match=[responses.matchers.query_param_matcher({"status": "cancelled", "page_size": 20})],
        json={"next": None, "previous": None, "results": [CANCELLED]},
    )
    assert cli_main.main(["jobs", "--status", "cancelled", "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["jobs"] == [CANCELLED]
