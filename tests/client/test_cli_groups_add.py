"""``visiona groups add GROUP`` with neither --device nor --chip has nothing to add: it
refuses (exit 2) before any request instead of saying it added nothing with exit 0."""

from __future__ import annotations

import json

import responses
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at


def test_groups_add_with_nothing_to_add_is_a_usage_error(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        code = cli_main.main(["groups", "add", "Lab", "--json"])
        assert len(mock.calls) == 0
    assert code == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "usage"
    assert "--device" in error["message"] and "--chip" in error["message"]


def test_models_and_rollout_list_by_default_as_devices_and_groups_do(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        page = {"count": 0, "next": None, "previous": None, "results": []}
        mock.get(f"{SERVER}/api/models/", json=page)
        mock.get(f"{SERVER}/api/rollouts", json=page)
        assert cli_main.main(["models", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"models": []}
        assert cli_main.main(["rollout", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"rollouts": []}
