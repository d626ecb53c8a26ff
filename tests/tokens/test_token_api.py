"""The tokens API: create (the secret once), list without secrets, revoke; owner only."""

from __future__ import annotations

import pytest

from tests.tokens.conftest import bearer
from tokens.models import PersonalToken

pytestmark = pytest.mark.django_db


def _create(client, **body):
    body = {"name": "ci", "scopes": ["read", "convert"], "expires_in_days": 30, **body}
    return client.post("/api/tokens/", body, content_type="application/json")


def test_create_answers_the_secret_once_and_list_never(alice_client):
    response = _create(alice_client)
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    secret = body["token"]
    assert secret.startswith(body["starts_with"])
    assert body["scopes"] == ["read", "convert"]
    assert body["active"] is True
    listed = alice_client.get("/api/tokens/")
    assert [t["id"] for t in listed.json()["tokens"]] == [body["id"]]
    assert secret not in listed.content.decode()
    assert "token" not in listed.json()["tokens"][0]
    assert alice_client.get("/api/auth/me", **bearer(secret)).json()["means"] == "token"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"scopes": []},
        {"scopes": ["admin"]},
        {"expires_in_days": 0},
        {"expires_in_days": 366},
        {"name": 5},
    ],
)
def test_create_refuses_bad_values(alice_client, body):
    response = _create(alice_client, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert not PersonalToken.objects.exists()


def test_revoke_is_owner_only_and_idempotent(alice_client, bob, make_token):
    own = _create(alice_client).json()
    others = make_token(bob)
    refused = alice_client.post(f"/api/tokens/{others.token.pk}/revoke")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "token_not_found"
    assert PersonalToken.objects.get(pk=others.token.pk).revoked_at is None

    first = alice_client.post(f"/api/tokens/{own['id']}/revoke").json()
    again = alice_client.post(f"/api/tokens/{own['id']}/revoke").json()
    assert first["revoked_at"] and first["revoked_at"] == again["revoked_at"]
    assert first["active"] is False


def test_the_list_is_the_users_own(alice_client, bob, make_token):
    make_token(bob)
    assert alice_client.get("/api/tokens/").json() == {"tokens": []}


def test_a_token_cannot_mint_or_revoke_tokens(client, alice, make_token):
    issued = make_token(alice)
    minted = client.post(
        "/api/tokens/",
        {"name": "x", "scopes": ["read"]},
        content_type="application/json",
        **bearer(issued.secret),
    )
    assert minted.status_code == 403
    assert minted.json()["error"]["code"] == "token_not_allowed"
    revoked = client.post(f"/api/tokens/{issued.token.pk}/revoke", **bearer(issued.secret))
    assert revoked.status_code == 403
    assert PersonalToken.objects.count() == 1


def test_too_many_active_tokens_is_409(alice_client, alice, make_token, monkeypatch):
    monkeypatch.setattr("tokens.services.MAX_ACTIVE_TOKENS", 2)
    make_token(alice)
    make_token(alice)
    response = _create(alice_client)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_tokens"


def test_signed_out_is_401(client):
    assert client.get("/api/tokens/").status_code == 401
    assert _create(client).status_code == 401
