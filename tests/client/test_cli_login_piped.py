"""``echo $TOKEN | visiona login``: the token is read from the pipe, without getpass's
warning that it cannot hide the input; and a server that was reached but did not answer
is not called unreachable."""

from __future__ import annotations

import io
import json
import warnings

import requests
import responses
from visiona_client.visiona_cli import config
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

ME = {"user": {"username": "ada"}, "means": "token", "scopes": ["read"], "token": None}


def test_a_piped_token_is_read_without_a_warning(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VISIONA_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("VISIONA_TOKEN", raising=False)
    monkeypatch.delenv("VISIONA_SERVER", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("vap_piped\n"))
    with responses.RequestsMock() as mock, warnings.catch_warnings():
        warnings.simplefilter("error")
        mock.get(f"{SERVER}/api/auth/me", json=ME)
        code = cli_main.main(["login", "--server", SERVER, "--json"])
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_piped"
    assert code == 0
    assert config.load_stored().token_for(SERVER) == "vap_piped"


def test_a_server_that_does_not_answer_is_not_called_unreachable(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/api/auth/me", body=requests.ReadTimeout())
        code = cli_main.main(["whoami", "--json"])
    assert code == 4
    message = json.loads(capsys.readouterr().out)["error"]["message"]
    assert message == f"{SERVER}/ did not answer within 30 s (ReadTimeout)."
