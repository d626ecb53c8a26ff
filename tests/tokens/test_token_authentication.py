"""A personal token signs API requests in: at once refused when revoked or expired,
no CSRF, never on pages, apart from device tokens."""

from __future__ import annotations

import pytest

from devices import services as device_services
from tests.tokens.conftest import bearer, expire
from tokens import services
from tokens.models import PersonalToken

pytestmark = pytest.mark.django_db


def test_a_token_reads_the_api_as_its_owner(token_client, alice, make_token):
    issued = make_token(alice)
    response = token_client.get("/api/auth/me", **bearer(issued.secret))
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "alice"
    assert body["means"] == "token"
    assert body["scopes"] == ["read", "convert", "deploy"]
    assert body["token"]["id"] == str(issued.token.pk)
    assert issued.secret not in response.content.decode()


def test_the_token_is_stored_hashed(alice, make_token):
    issued = make_token(alice)
    row = PersonalToken.objects.get()
    assert issued.secret.startswith("vap_") and len(issued.secret) > 40
    assert issued.secret not in {row.token_hash, row.display_prefix, row.name}
    assert issued.secret.startswith(row.display_prefix)
    assert row.token_hash == services.credentials.token_hash(issued.secret)


def test_a_revoked_token_is_refused_on_the_next_request(token_client, alice, make_token):
    issued = make_token(alice)
    assert token_client.get("/api/models/", **bearer(issued.secret)).status_code == 200
    services.token_revoke(token=issued.token, by=alice)
    response = token_client.get("/api/models/", **bearer(issued.secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_refused_on_the_next_request(token_client, alice, make_token):
    issued = make_token(alice)
    assert token_client.get("/api/models/", **bearer(issued.secret)).status_code == 200
    expire(issued.token)
    response = token_client.get("/api/models/", **bearer(issued.secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_deactivated_users_token_is_refused(token_client, alice, make_token):
    issued = make_token(alice)
    alice.is_active = False
    alice.save()
    response = token_client.get("/api/models/", **bearer(issued.secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


@pytest.mark.parametrize(
    "header",
    ["Bearer vap_notarealtoken", "Bearer", "Bearer a b", "Bearer vap_ünïcode", "bearer xyz"],
)
def test_an_unknown_or_malformed_bearer_is_401(token_client, alice, make_token, header):
    make_token(alice)
    response = token_client.get("/api/models/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_no_csrf_is_needed_with_a_token(token_client, alice, make_token):
    issued = make_token(alice)
    response = token_client.post(
        "/api/devices/pairing-codes", content_type="application/json", **bearer(issued.secret)
    )
    assert response.status_code == 201, response.content


def test_a_session_still_needs_its_csrf_token(token_client, alice):
    token_client.force_login(alice)
    response = token_client.post("/api/devices/pairing-codes")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("path", ["/models/", "/tokens/", "/convert/", "/devices/", "/admin/"])
def test_a_token_opens_no_page(token_client, alice, make_token, path):
    alice.is_staff = True
    alice.save()
    issued = make_token(alice)
    response = token_client.get(path, **bearer(issued.secret))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_last_used_is_recorded_at_most_once_a_minute(token_client, alice, make_token):
    issued = make_token(alice)
    assert issued.token.last_used_at is None
    token_client.get("/api/models/", **bearer(issued.secret))
    first = PersonalToken.objects.get().last_used_at
    assert first is not None
    token_client.get("/api/models/", **bearer(issued.secret))
    assert PersonalToken.objects.get().last_used_at == first


def test_a_device_token_is_not_a_personal_token(token_client, alice):
    code = device_services.pairing_code_create(user=alice).code
    device_token = device_services.device_pair(
        code=code, serial="SER-1", chip="KL720", client_address="192.0.2.1"
    ).token
    response = token_client.get("/api/models/", **bearer(device_token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
    # ...and it still works where it belongs.
    heartbeat = token_client.post(
        "/api/agent/heartbeat",
        data={"agent_status": "idle"},
        content_type="application/json",
        **bearer(device_token),
    )
    assert heartbeat.status_code == 200, heartbeat.content


def test_a_personal_token_is_not_a_device_token(token_client, alice, make_token):
    issued = make_token(alice)
    response = token_client.get("/api/agent/me", **bearer(issued.secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "device_token_invalid"


def test_a_session_reads_me_with_every_scope(alice_client):
    body = alice_client.get("/api/auth/me").json()
    assert body["means"] == "session"
    assert body["scopes"] == ["read", "convert", "deploy"]
    assert body["token"] is None


def test_me_signed_out_is_401(client):
    assert client.get("/api/auth/me").status_code == 401
