"""Sessions: rotated at sign-in, idle and absolute limits, fail closed without Redis."""

import time
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.waiting import wait_for
from visiona import sessions
from visiona.sessions import EXPIRES_AT_KEY, SIGNED_IN_AT_KEY

pytestmark = pytest.mark.django_db


def session_key(client) -> str:
    from django.core.cache import cache

    return cache.make_key(f"django.contrib.sessions.cache{client.session.session_key}")


def redis_has(key: str) -> bool:
    from django_redis import get_redis_connection

    return bool(get_redis_connection("default").exists(key))


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


class FakeClock:
    """The session limits' clock (visiona.sessions only), moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(sessions, "time", fake)
    return fake


@pytest.fixture
def session_writes(monkeypatch) -> list[str]:
    """Every save of the configured session store (database or Redis)."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    writes: list[str] = []
    original = store.save

    def save(self, *args, **kwargs):
        writes.append(self.session_key)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store, "save", save)
    return writes


@pytest.fixture
def short_limits(settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    settings.SESSION_ABSOLUTE_LIFETIME = 3600


@pytest.mark.usefixtures("short_limits")
class TestIdleLimit:
    def test_it_holds_from_sign_in(self, client, alice, password, clock):
        sign_in(client, alice, password)
        assert client.session.get_expiry_age() == 600  # not the absolute lifetime
        clock.advance(600)  # no request at all since sign-in
        assert client.get("/").status_code == 302

    def test_polling_rewrites_the_session_once_per_tenth_of_it(
        self, client, alice, password, clock, session_writes
    ):
        sign_in(client, alice, password)
        session_writes.clear()
        for _ in range(50):  # a page polling every 5 s for 250 s
            clock.advance(5)
            assert client.get("/").status_code == 200
        assert len(session_writes) == 4  # at 60, 120, 180 and 240 s
        # The coarse clock: alive 90% of the idle timeout after the last request...
        clock.advance(600 * 0.9)
        assert client.get("/").status_code == 200
        # ...and never past the full timeout after one.
        clock.advance(600)
        assert client.get("/").status_code == 302

    def test_the_absolute_lifetime_still_ends_it_to_the_second(
        self, client, alice, password, clock, settings
    ):
        settings.SESSION_ABSOLUTE_LIFETIME = 1000
        sign_in(client, alice, password)
        for _ in range(9):
            clock.advance(100)
            assert client.get("/").status_code == 200
        assert client.session[EXPIRES_AT_KEY] == client.session[SIGNED_IN_AT_KEY] + 1000
        clock.advance(99)
        assert client.get("/").status_code == 200
        clock.advance(1)
        assert client.get("/").status_code == 302


@pytest.mark.redis
class TestOnRedis:
    def test_sessions_live_in_redis(self, settings):
        assert settings.SESSION_ENGINE == "visiona.sessions"

    # No fixed sleeps: Redis's TTL ends a session, so each test waits (with a generous
    # deadline) for its key to go, looking at Redis, which does not count as activity.

    def test_an_idle_session_ends(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 1
        client = Client()
        sign_in(client, alice, password)
        key = session_key(client)
        wait_for(
            lambda: not redis_has(key),
            timeout=60,
            interval=0.05,
            what="the idle session's key to expire",
        )
        assert client.get("/").status_code == 302

    def test_activity_keeps_an_idle_session_alive(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 5
        client = Client()
        sign_in(client, alice, password)
        started = time.monotonic()
        # Twice the idle limit of steady use (a request every ~0.2 s): never signed out.
        while time.monotonic() - started < 2 * settings.SESSION_IDLE_TIMEOUT:
            assert client.get("/").status_code == 200
            time.sleep(0.2)

    def test_the_absolute_lifetime_ends_a_busy_session(self, alice, password, settings):
        settings.SESSION_IDLE_TIMEOUT = 60
        settings.SESSION_ABSOLUTE_LIFETIME = 4
        client = Client()
        sign_in(client, alice, password)
        key = session_key(client)
        deadline = time.monotonic() + 60
        answers = []
        while redis_has(key) and time.monotonic() < deadline:
            answers.append(client.get("/").status_code)  # busy: activity all along
            time.sleep(0.1)
        assert answers and answers[0] == 200
        assert set(answers) <= {200, 302}  # 302 only once the lifetime is over
        assert not redis_has(key)
        assert client.get("/").status_code == 302
        assert client.get("/api/system/health").status_code == 401

    def test_the_ttl_is_the_idle_limit_from_sign_in_and_polling_leaves_it(
        self, alice, password, settings, session_writes
    ):
        from django.core.cache import cache
        from django_redis import get_redis_connection

        settings.SESSION_IDLE_TIMEOUT = 300
        client = Client()
        sign_in(client, alice, password)
        key = cache.make_key(f"django.contrib.sessions.cache{client.session.session_key}")
        redis = get_redis_connection("default")
        after_sign_in = redis.pttl(key)
        assert 299_000 < after_sign_in <= 300_000
        session_writes.clear()
        for _ in range(20):
            assert client.get("/api/system/info").status_code == 200
            assert client.get("/").status_code == 200
        # Counting down, not rewritten: wait until the TTL has moved at all.
        wait_for(
            lambda: redis.pttl(key) < after_sign_in,
            timeout=60,
            interval=0.05,
            what="the TTL to count down",
        )
        assert session_writes == []
        assert redis.pttl(key) < after_sign_in


@pytest.mark.usefixtures("session_store_down")
class TestRedisDown:
    """A Redis outage must never fall back to memory or sign people out quietly."""

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
