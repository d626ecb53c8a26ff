"""The sandbox Member Center: client-credentials tokens and delegated download tokens."""

from __future__ import annotations

import pytest

from sandbox import tokens

from .conftest import MC, basic_auth, bearer


def post_token(client, auth: str | None = None, **form):
    form.setdefault("grant_type", "client_credentials")
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(f"{MC}/oauth/token", form, **headers)


def test_it_grants_the_asked_scopes(client, settings):
    settings.SANDBOX_TOKEN_TTL_SECONDS = 120
    response = post_token(client, basic_auth(), scope="converter:job.read files:download.read")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert body["scope"] == "converter:job.read files:download.read"
    claims = tokens.read(body["access_token"], kind=tokens.SERVICE)
    assert claims["scopes"] == ["converter:job.read", "files:download.read"]
    assert response["Cache-Control"] == "no-store"


def test_without_a_scope_it_grants_every_known_scope(client):
    body = post_token(client, basic_auth()).json()
    assert set(body["scope"].split()) == tokens.SERVICE_SCOPES


@pytest.mark.parametrize(
    "auth",
    [None, basic_auth(secret="wrong"), basic_auth(client_id="someone"), "Basic !!!", "Bearer x"],
)
def test_it_refuses_an_unknown_client(client, auth):
    response = post_token(client, auth, scope="converter:job.read")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_it_refuses_everyone_when_no_client_is_configured(client, settings):
    settings.MC_SERVICE_CLIENT_ID = settings.MC_SERVICE_CLIENT_SECRET = ""
    assert post_token(client, basic_auth("", "")).status_code == 401


def test_it_refuses_an_unknown_scope(client):
    response = post_token(client, basic_auth(), scope="converter:job.read admin:everything")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_it_grants_only_client_credentials(client):
    response = post_token(client, basic_auth(), grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def ask_download_token(client, token: str, **fields):
    body = {"tenant_id": "t1", "user_id": "u1", "object_key": "tenants/t1/a.nef", **fields}
    return client.post(
        f"{MC}/file-access/download-tokens", body, content_type="application/json", **bearer(token)
    )


def test_it_delegates_a_download(client, get_token, fake_clock):
    response = ask_download_token(client, get_token("files:download.delegate"))
    assert response.status_code == 201
    body = response.json()
    assert body["expires_at"].endswith("Z")
    claims = tokens.read(body["token"], kind=tokens.DOWNLOAD)
    assert claims["exp"] == int(fake_clock.time) + 300
    assert (claims["tenant_id"], claims["user_id"]) == ("t1", "u1")
    assert (claims["object_key"], claims["method"]) == ("tenants/t1/a.nef", "GET")


def test_the_delegated_lifetime_is_the_asked_one(client, get_token, fake_clock):
    response = ask_download_token(client, get_token(), expires_in_seconds=60)
    claims = tokens.read(response.json()["token"], kind=tokens.DOWNLOAD)
    assert claims["exp"] == int(fake_clock.time) + 60


def test_delegating_needs_the_delegate_scope(client, get_token):
    response = ask_download_token(client, get_token("files:download.read"))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize("token", ["", "forged"])
def test_delegating_needs_a_service_token(client, token):
    response = ask_download_token(client, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "PUT"},
        {"object_key": "../etc/passwd"},
        {"object_key": "/absolute"},
        {"user_id": ""},
        {"expires_in_seconds": 0},
        {"expires_in_seconds": "300"},
    ],
)
def test_it_refuses_a_bad_delegation_request(client, token, fields):
    response = ask_download_token(client, token, **fields)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
