"""``visiona convert --wait`` follows the job at the command's poll interval
(``poll_seconds``, as deploy and run do), not a fixed second (answers from
``responses``)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import responses
from visiona_client.visiona_cli import exit_codes, waiting
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000e"


def job(status: str) -> dict:
    return {"job_id": JOB_ID, "status": status, "stage": "nef", "progress": 50, "error": None}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        yield mock


def test_convert_polls_the_job_at_its_interval(api, monkeypatch, tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx")
    api.post(f"{SERVER}/api/conversion/init", json=job("running"), status=201)
    # Two more looks while it runs, then done: two waits between the three answers.
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job("running"))
    api.get(f"{SERVER}/api/conversion/{JOB_ID}", json=job("completed"))
    waits: list[float] = []
    # The waits are recorded, not slept: the interval given is what is checked.
    monkeypatch.setattr(
        waiting, "time", SimpleNamespace(sleep=waits.append, monotonic=time.monotonic)
    )

    arguments = ["convert", str(model), "--chip", "720", "--no-check", "--wait"]
    assert cli_main.main(arguments, poll_seconds=0.25) == exit_codes.OK

    assert waits == [0.25, 0.25]
