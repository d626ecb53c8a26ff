"""A ~/.netrc entry for the visionA host never replaces the token the agent or the CLI
sends (requests swaps a request's Authorization for netrc's login when the session has
no auth of its own: visiona_client/http_auth.py)."""

from __future__ import annotations

import pytest
import responses
from visiona_client.server_api import RunApi, ServerApi
from visiona_client.visiona_cli.api import Api

SERVER = "https://visiona.example"


@pytest.fixture(autouse=True)
def netrc_for_visiona(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine visiona.example login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


@responses.activate
def test_the_agent_sends_its_device_token():
    responses.get(f"{SERVER}/api/agent/runs", json={"runs": []})
    RunApi(ServerApi(SERVER, token="dt_device")).runs()
    [call] = responses.calls
    assert call.request.headers["Authorization"] == "Bearer dt_device"


@responses.activate
def test_the_cli_sends_its_personal_token():
    responses.get(f"{SERVER}/api/models/", json={"results": []})
    Api(SERVER, "vat_personal").get_json("/api/models/")
    [call] = responses.calls
    assert call.request.headers["Authorization"] == "Bearer vat_personal"
