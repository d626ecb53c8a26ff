"""The signed-in user and a personal token are read once per AUTH_CACHE_SECONDS by each
process: no query for them on the requests in between; a change made here holds at once,
one made elsewhere (another process: here, a database update with no signal) within
those seconds; 0 reads them on every request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokens import services as token_services
from tokens.models import PersonalToken
from visiona.models import User

pytestmark = pytest.mark.django_db

USER_QUERY = 'FROM "visiona_user"'


def user_queries(context) -> list[str]:
    return [q["sql"] for q in context.captured_queries if USER_QUERY in q["sql"]]


def test_the_signed_in_user_is_read_once_then_remembered(alice_client, settings):
    settings.AUTH_CACHE_SECONDS = 60
    alice_client.get("/api/models/")
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get("/api/models/").status_code == 200
    assert user_queries(queries) == []


def test_with_no_cache_every_request_reads_the_user(alice_client, settings):
    settings.AUTH_CACHE_SECONDS = 0
    alice_client.get("/api/models/")
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get("/api/models/").status_code == 200
    assert len(user_queries(queries)) == 1


def test_each_request_gets_its_own_user_object(alice_client, settings, alice):
    settings.AUTH_CACHE_SECONDS = 60
    from visiona.auth.user_cache import cached_user

    first, second = cached_user(alice.pk), cached_user(alice.pk)
    assert first == second and first is not second
    first.first_name = "changed in one request"
    assert second.first_name != "changed in one request"


def test_a_user_deactivated_here_is_signed_out_at_once(alice_client, settings, alice):
    settings.AUTH_CACHE_SECONDS = 60
    assert alice_client.get("/api/models/").status_code == 200
    alice.is_active = False
    alice.save()
    assert alice_client.get("/api/models/").status_code == 401


def test_a_user_deactivated_elsewhere_is_signed_out_within_the_cache_time(
    alice_client, settings, alice
):
    from tests.waiting import wait_for

    settings.AUTH_CACHE_SECONDS = 1
    assert alice_client.get("/api/models/").status_code == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)  # another process's change
    wait_for(lambda: alice_client.get("/api/models/").status_code == 401, timeout=10)


def test_a_token_is_read_once_then_remembered(client, settings, alice):
    settings.AUTH_CACHE_SECONDS = 60
    issued = token_services.token_create(
        owner=alice, name="cached", scopes=["read"], expires_in_days=7
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}
    client.get("/api/models/", **headers)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/models/", **headers).status_code == 200
    assert not [q for q in queries.captured_queries if "tokens_personaltoken" in q["sql"]]
    assert user_queries(queries) == []


def test_a_token_revoked_here_is_refused_at_once_elsewhere_within_the_cache_time(
    client, settings, alice
):
    from tests.waiting import wait_for

    settings.AUTH_CACHE_SECONDS = 60
    here = token_services.token_create(owner=alice, name="here", scopes=["read"], expires_in_days=7)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {here.secret}"}
    assert client.get("/api/models/", **headers).status_code == 200
    token_services.token_revoke(token=here.token, by=alice)
    assert client.get("/api/models/", **headers).json()["error"]["code"] == "token_revoked"

    settings.AUTH_CACHE_SECONDS = 1
    there = token_services.token_create(
        owner=alice, name="there", scopes=["read"], expires_in_days=7
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {there.secret}"}
    assert client.get("/api/models/", **headers).status_code == 200
    PersonalToken.objects.filter(pk=there.token.pk).update(revoked_at=there.token.created_at)
    wait_for(lambda: client.get("/api/models/", **headers).status_code == 401, timeout=10)


def test_a_deactivated_owners_token_is_refused_at_once(client, settings, alice):
    settings.AUTH_CACHE_SECONDS = 60
    issued = token_services.token_create(
        owner=alice, name="owner", scopes=["read"], expires_in_days=7
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}
    assert client.get("/api/models/", **headers).status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get("/api/models/", **headers).json()["error"]["code"] == "token_invalid"
