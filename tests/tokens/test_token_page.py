"""The API tokens page: create shows the secret once, list, revoke; owner only."""

from __future__ import annotations

import re
from datetime import UTC

import pytest

from tokens.models import PersonalToken

pytestmark = pytest.mark.django_db


def _create(client, **data):
    data = {"name": "laptop", "scopes": ["read", "deploy"], "expires_in_days": "30", **data}
    return client.post("/tokens/", data)


def test_create_shows_the_token_once(alice_client):
    response = _create(alice_client)
    assert response.status_code == 200
    html = response.content.decode()
    secret = re.search(r'id="issued-token">(vap_[\w-]+)<', html).group(1)
    token = PersonalToken.objects.get()
    assert token.scopes == ["read", "deploy"]
    assert token.name == "laptop"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    # Where to get the tool it signs in, and the command to sign it in with.
    assert 'not installed yet? <a href="/downloads/">Downloads</a>' in html
    assert 'id="login-command">visiona login --server http://testserver<' in html
    again = alice_client.get("/tokens/").content.decode()
    assert secret not in again
    assert token.display_prefix in again
    assert "laptop" in again


def test_a_bad_form_is_shown_again_with_errors(alice_client):
    response = _create(alice_client, name="  ", scopes=[])
    assert response.status_code == 400
    assert not PersonalToken.objects.exists()
    assert 'role="alert"' in response.content.decode()


def test_revoke_asks_first(alice_client, alice, make_token):
    issued = make_token(alice, name="old")
    listed = alice_client.get("/tokens/").content.decode()
    assert f'href="/tokens/{issued.token.pk}/revoke/"' in listed  # a link, not a POST
    confirm = alice_client.get(f"/tokens/{issued.token.pk}/revoke/")
    assert confirm.status_code == 200
    assert "Revoke “old”?" in confirm.content.decode()
    assert PersonalToken.objects.get().revoked_at is None
    response = alice_client.post(f"/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 302
    assert PersonalToken.objects.get().revoked_at is not None
    assert "Revoked" in alice_client.get("/tokens/").content.decode()


def test_another_users_token_cannot_be_revoked(alice_client, bob, make_token):
    # A name no random CSRF token can contain: "ci" once matched one by chance.
    issued = make_token(bob, name="Bob the builder lab rack")
    assert alice_client.get(f"/tokens/{issued.token.pk}/revoke/").status_code == 404
    response = alice_client.post(f"/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 404
    assert PersonalToken.objects.get().revoked_at is None
    listed = alice_client.get("/tokens/").content.decode()
    assert "lab rack" not in listed and str(issued.token.pk) not in listed


def test_signed_out_visitors_are_sent_to_sign_in(client, alice, make_token):
    issued = make_token(alice)
    for response in (client.get("/tokens/"), client.post(f"/tokens/{issued.token.pk}/revoke/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert PersonalToken.objects.get().revoked_at is None


def test_the_list_shows_times_in_the_users_zone_as_every_page_does(alice_client):
    # <time data-local>: the page reloads itself in the browser's zone when the
    # session's differs, like the other lists (visiona/templatetags/local_time.py).
    _create(alice_client)
    token = PersonalToken.objects.get()
    html = alice_client.get("/tokens/").content.decode()
    iso = token.created_at.astimezone(UTC).isoformat(timespec="seconds")
    assert f'<time datetime="{iso}"' in html
    assert html.count("data-local") >= 2  # created and expires


def test_the_secret_has_a_copy_button_and_breaks_evenly(alice_client):
    html = _create(alice_client).content.decode()
    assert '<div class="command secret"><pre><code id="issued-token">' in html
    assert 'data-copy="issued-token"' in html and "js/copy.js" in html


def test_the_list_stacks_on_a_phone_with_translated_scope_names(alice_client):
    _create(alice_client, scopes=["read", "deploy"])
    html = alice_client.get("/tokens/").content.decode()
    assert 'class="table table-stack tokens-table"' in html
    assert '<td data-label="Scopes">read, deploy</td>' in html
    alice_client.cookies["django_language"] = "zh-hant"
    html = alice_client.get("/tokens/").content.decode()
    assert "讀取、部署" in html
