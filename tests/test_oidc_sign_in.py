"""Sign-in through a real OpenID Connect provider running in a thread.

The provider (oidc-provider-mock) serves discovery, JWKS, token, userinfo and
end-session over real HTTP; visionA talks to it exactly as to Member Center.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from oidc_provider_mock import run_server_in_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc(settings, provider):
    settings.OIDC_ENABLED = True
    settings.OIDC_OP_ISSUER = provider
    settings.OIDC_RP_CLIENT_ID = "visiona-web"
    settings.OIDC_RP_CLIENT_SECRET = "web-secret"
    return provider


def set_claims(provider: str, sub: str, **claims) -> None:
    response = requests.put(f"{provider}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204


def sign_in(client, provider: str, sub: str, next_url: str = "/") -> tuple:
    """Walk the authorization-code flow; return (authorize query, callback response)."""
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith(f"{provider}/oauth2/authorize")
    query = parse_qs(urlsplit(authorize_url).query)
    # The provider's consent form: choose the subject, as a person would.
    consent = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["Location"])
    assert callback.path == "/oidc/callback/"
    return query, client.get(callback.path, parse_qs(callback.query))


def test_it_uses_pkce_state_and_nonce(client, oidc):
    start = client.get("/oidc/authenticate/")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["client_id"] == ["visiona-web"]


def test_sign_in_creates_the_user_from_sub(client, oidc):
    set_claims(oidc, "mc-user-1", email="ada@example.com", given_name="Ada", family_name="L")
    client.get("/")  # an anonymous session exists before sign-in
    key_before = client.session.session_key
    _, response = sign_in(client, oidc, "mc-user-1", next_url="/?from=test")
    assert response.status_code == 302
    assert response["Location"] == "/?from=test"
    user = get_user_model().objects.get(oidc_sub="mc-user-1")
    assert (user.email, user.first_name, user.last_name) == ("ada@example.com", "Ada", "L")
    assert client.session.session_key != key_before
    assert client.get("/").status_code == 200


def test_a_second_sign_in_updates_the_same_user(client, oidc, make_user):
    make_user("someone", email="ada@example.com", oidc_sub="other-sub")  # same email, other person
    set_claims(oidc, "mc-user-2", email="old@example.com")
    sign_in(client, oidc, "mc-user-2")
    client.post("/accounts/logout/")
    set_claims(oidc, "mc-user-2", email="ada@example.com")
    sign_in(client, oidc, "mc-user-2")
    users = get_user_model().objects.filter(oidc_sub="mc-user-2")
    assert users.count() == 1
    assert users.get().email == "ada@example.com"
    assert get_user_model().objects.get(oidc_sub="other-sub").username == "someone"


def test_sign_out_ends_the_provider_session(client, oidc):
    set_claims(oidc, "mc-user-3", email="c@example.com")
    sign_in(client, oidc, "mc-user-3")
    id_token = client.session["oidc_id_token"]
    response = client.post("/accounts/logout/")
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (f"{oidc}/oauth2/end_session")
    params = parse_qs(location.query)
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == ["http://testserver/"]
    assert requests.get(response["Location"], timeout=5).status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_forged_callback_does_not_sign_in(client, oidc):
    client.get("/oidc/authenticate/")
    response = client.get("/oidc/callback/", {"code": "made-up", "state": "wrong"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_unreachable_provider_gives_a_clear_page(client, settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_OP_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "visiona-web"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert b"Member Center is unavailable" in response.content
