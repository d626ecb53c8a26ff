"""Sessions: rotated at sign-in, idle and absolute limits, fail closed without Redis."""

import time

import pytest
from django.test import Client

from visiona.sessions import SIGNED_IN_AT_KEY

pytestmark = pytest.mark.django_db


def sign_in(client, user, password) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302


def test_sign_in_rotates_the_session_id(client, alice, password):
    session = client.session  # an anonymous session, as a visitor has before sign-in
    session["probe"] = 1
    session.save()
    before = session.session_key
    sign_in(client, alice, password)
    assert client.session.session_key != before


def test_the_session_cookie_is_locked_down(client, alice, password):
    sign_in(client, alice, password)
    cookie = client.cookies["visiona_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_absolute_lifetime_ends_an_active_session(client, alice, password, settings):
    sign_in(client, alice, password)
    assert client.get("/").status_code == 200
    session = client.session
    session[SIGNED_IN_AT_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert client.get("/api/system/health").status_code == 401


def test_the_expiry_is_the_sooner_of_idle_and_absolute(client, alice, password, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    settings.SESSION_ABSOLUTE_LIFETIME = 3600
    sign_in(client, alice, password)
    client.get("/")
    assert client.session.get_expiry_age() == 600
    session = client.session
    session[SIGNED_IN_AT_KEY] = int(time.time()) - 3400
    session.save()
    client.get("/")
    assert 190 <= client.session.get_expiry_age() <= 200


@pytest.mark.redis
class TestOnRedis:
    def test_sessions_live_in_redis(self, settings):
        assert settings.SESSION_ENGINE == "visiona.sessions"

    def test_an_idle_session_ends(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 1
        client = Client()
        sign_in(client, alice, password)
        assert client.get("/").status_code == 200
        time.sleep(1.6)
        assert client.get("/").status_code == 302

    def test_activity_keeps_an_idle_session_alive(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 2
        client = Client()
        sign_in(client, alice, password)
        for _ in range(3):
            time.sleep(1)
            assert client.get("/").status_code == 200

    def test_the_absolute_lifetime_ends_a_busy_session(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 60
        settings.SESSION_ABSOLUTE_LIFETIME = 2
        client = Client()
        sign_in(client, alice, password)
        assert client.get("/").status_code == 200
        time.sleep(1)
        assert client.get("/").status_code == 200
        time.sleep(1.6)
        assert client.get("/").status_code == 302
        assert client.get("/api/system/health").status_code == 401


class TestRedisDown:
    """A Redis outage must never fall back to memory or sign people out quietly."""

    @pytest.fixture(autouse=True)
    def _redis_at_a_closed_port(self, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
            }
        }
        settings.SESSION_ENGINE = "visiona.sessions"

    def test_sign_in_fails_with_503(self, alice, password):
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": alice.username, "password": password}
        )
        assert response.status_code == 503
        assert b"Sign-in is temporarily unavailable" in response.content

    def test_a_session_cookie_gets_503_not_anonymous(self):
        client = Client()
        client.cookies["visiona_session"] = "a" * 32
        assert client.get("/").status_code == 503
        response = client.get("/api/system/health")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "session_store_unavailable"
