"""A token stored by ``visiona login`` goes only to the server it was stored for:
``--server`` or ``VISIONA_SERVER`` naming another host is refused before any request."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import config
from visiona_client.visiona_cli import main as cli_main

HOME_SERVER = "https://visiona.example"
OTHER_SERVER = "http://127.0.0.1:8298"
ME = {"user": {"username": "ada"}, "means": "token", "scopes": ["read"], "token": None}


@pytest.fixture
def stored(monkeypatch, tmp_path):
    """A login stored for HOME_SERVER, nothing in the environment."""
    monkeypatch.setenv("VISIONA_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("VISIONA_SERVER", raising=False)
    monkeypatch.delenv("VISIONA_TOKEN", raising=False)
    config.save(config.with_login(config.Config(), HOME_SERVER, "vap_home"))
    return tmp_path


def whoami(capsys, *arguments):
    code = cli_main.main(["--json", *arguments, "whoami"])
    return code, json.loads(capsys.readouterr().out)


def test_it_sends_the_stored_token_to_its_own_server(stored, capsys):
    with responses.RequestsMock() as mock:
        mock.get(f"{HOME_SERVER}/api/auth/me", json=ME)
        code, _ = whoami(capsys, "--server", "https://VISIONA.example/")
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_home"
    assert code == 0


@pytest.mark.parametrize("how", ["option", "environment"])
def test_it_refuses_another_server_before_any_request(stored, capsys, monkeypatch, how):
    arguments = ("--server", OTHER_SERVER) if how == "option" else ()
    if how == "environment":
        monkeypatch.setenv("VISIONA_SERVER", OTHER_SERVER)
    with responses.RequestsMock() as mock:
        code, data = whoami(capsys, *arguments)
        assert len(mock.calls) == 0
    assert code == 3
    assert data["error"]["code"] == "not_logged_in"
    assert f"visiona login --server {OTHER_SERVER}" in data["error"]["message"]


def test_an_origin_spells_out_its_default_port():
    assert config.origin("HTTPS://Visiona.example/app/") == "https://visiona.example:443"
    assert config.origin("http://[::1]:8000") == "http://[::1]:8000"
    assert config.origin("visiona.example") == ""


def test_another_port_is_another_server(stored, capsys):
    with responses.RequestsMock() as mock:
        code, _ = whoami(capsys, "--server", "https://visiona.example:8443")
        assert len(mock.calls) == 0
    assert code == 3


def test_a_token_from_the_environment_goes_where_it_is_told(stored, capsys, monkeypatch):
    monkeypatch.setenv("VISIONA_TOKEN", "vap_ci")
    with responses.RequestsMock() as mock:
        mock.get(f"{OTHER_SERVER}/api/auth/me", json=ME)
        code, _ = whoami(capsys, "--server", OTHER_SERVER)
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_ci"
    assert code == 0


def test_each_login_keeps_its_own_token(stored, capsys):
    with responses.RequestsMock() as mock:
        mock.get(f"{OTHER_SERVER}/api/auth/me", json=ME)
        config.save(config.with_login(config.load_stored(), OTHER_SERVER, "vap_other"))
        whoami(capsys, "--server", OTHER_SERVER)
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_other"
    with responses.RequestsMock() as mock:
        mock.get(f"{HOME_SERVER}/api/auth/me", json=ME)
        whoami(capsys, "--server", HOME_SERVER)
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_home"


def test_a_file_from_before_per_server_tokens_still_works(stored, capsys):
    (stored / "config.json").write_text(json.dumps({"server": HOME_SERVER, "token": "vap_old"}))
    with responses.RequestsMock() as mock:
        mock.get(f"{HOME_SERVER}/api/auth/me", json=ME)
        code, _ = whoami(capsys)
        assert mock.calls[0].request.headers["Authorization"] == "Bearer vap_old"
    assert code == 0
    with responses.RequestsMock() as mock:
        code, _ = whoami(capsys, "--server", OTHER_SERVER)
        assert len(mock.calls) == 0
    assert code == 3
