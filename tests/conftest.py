"""Shared fixtures, and the rule for tests that need real services.

A test marked ``postgres`` or ``redis`` is skipped, with the reason, when that
service is not configured (a laptop on SQLite); under CI (``CI=true``) or with
``VISIONA_REQUIRE_SERVICES=1`` the same situation is a failure instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

# The S3 stand-in (moto's S3 over HTTP), one process for the run, started on first use.
from tests.s3_stand_in import s3_stand_in  # noqa: F401

# The production-like stack on loopback (nginx, gunicorn, a relay node): tests/loopback.py.
pytest_plugins = ["tests.loopback"]

REQUIRE_SERVICES = (
    os.environ.get("CI", "").lower() == "true" or os.environ.get("VISIONA_REQUIRE_SERVICES") == "1"
)


CHROMIUM = os.environ.get("VISIONA_CHROMIUM", "/usr/bin/chromium")


def _missing_service(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"needs {what}, which is not configured; CI requires it", pytrace=False)
    pytest.skip(f"needs {what}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing_service("PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        _missing_service("Redis (set REDIS_URL)")
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        _missing_service(f"Chromium at {CHROMIUM} (apt-get install chromium)")


def clear_own_cache() -> None:
    """Forget what the suite cached, and nothing else.

    Redis: only the keys under this run's prefix (tests/settings.py), never FLUSHDB, so
    a database that holds someone else's keys keeps them. Local memory is this process's.
    The registry leases of relay nodes still running in this process's loopback stacks
    are put back (tests/loopback.py, ``running_relay_leases``): the nodes outlive the
    test, and a node's own lease is not a test's state.
    """
    from devices import tunnel_registry
    from tests.loopback import running_relay_leases
    from visiona.auth.user_cache import clear_all

    clear_all()  # this process's remembered users and tokens (rows of other tests)
    if hasattr(cache, "delete_pattern"):
        leases = running_relay_leases()
        cache.delete_pattern("*")  # django-redis puts the key prefix in front of the pattern
        for lease in leases:
            tunnel_registry.lease_acquire(lease)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    # The cache is shared state (tokens, locks, rate limits): start each test clean.
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture(autouse=True)
def _default_language():
    # A test client's request leaves its language active in this thread (LocaleMiddleware
    # activates it, nothing deactivates it): a Chinese page once made the next test's
    # "English" strings Chinese, depending on which tests shared the process.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def models_folder(settings, tmp_path) -> Path:
    """Every test stores model files in its own folder (checked for leftovers)."""
    folder = tmp_path / "models"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }
    return folder


@pytest.fixture
def session_store_down(settings):
    """Sessions in a Redis that is not there (a closed port): the store is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.SESSION_ENGINE = "visiona.sessions"


@pytest.fixture
def password() -> str:
    return "correct horse battery staple"


@pytest.fixture
def make_user(django_user_model, password):
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, **fields):
        name = username or f"user{next(counter)}"
        fields.setdefault("oidc_sub", f"sub-{name}")
        fields.setdefault("email", f"{name}@example.com")
        return django_user_model.objects.create_user(username=name, password=password, **fields)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    c = Client()
    c.force_login(bob)
    return c


def pytest_sessionfinish(session, exitstatus) -> None:
    # tests/settings.py made a fresh data folder for this run; leave no trace. Only the
    # process that made it: a pytest run by a test (tests/client/test_h2_versions.py)
    # shares its worker's folder, and removing it there broke the worker's later tests.
    data_dir = Path(settings.DATA_DIR)
    made_here = os.environ.get("VISIONA_TESTS_DATA_DIR_MADE_BY") == str(os.getpid())
    if data_dir.name.startswith("visiona-tests-") and made_here:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


def pytest_configure(config) -> None:
    # The files' order is tests/suite_order.py's (the slowest first), not pytest-xdist's
    # (the most tests first, which left the minutes-long OpenAPI passes for the end).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items) -> None:
    from tests.suite_order import slowest_first

    items[:] = [items[index] for index in slowest_first([item.nodeid for item in items])]
