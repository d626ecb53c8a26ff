"""The production-like stack (deploy/loopback.py) for end-to-end tests: nginx with the
shipped configuration, gunicorn as the image runs it, a relay node, on the test run's
PostgreSQL database and Redis prefix. Registered by tests/conftest.py.

``loopback_stack`` (session): one stack for the run, with the settings below.
``loopback_stack_factory`` (per test): ``start(env={...})`` for a stack with other
settings (stopped at the test's end).
Tests using either are ``transaction=True`` (the stack reads what they commit) and
marked ``live``, ``postgres`` and ``redis``. ``signed_in_session(user)`` gives a
session cookie the stack accepts (stored in the run's Redis prefix).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from deploy.loopback import NGINX, LoopbackStack
from devices.tunnel_registry import NodeLease

# Settings every test stack runs with: short enough for a test to meet them soon.
TEST_STACK_ENV = {
    "RELAY_REQUEST_TIMEOUT_SECONDS": "2",
    # A streamed upload is cut after 2 s of waiting that brought less than 4 KiB/s.
    "UPLOAD_FLOOR_BYTES_PER_SECOND": "4096",
    "UPLOAD_FLOOR_WINDOW_SECONDS": "2",
}


# The internal URLs of the relay nodes of the stacks this process started and has not
# stopped yet (StackFactory). Such a node outlives the tests that use it; its registry
# lease is the node's own, not a test's state (see ``running_relay_leases``).
_running_relay_urls: set[str] = set()


def running_relay_leases() -> list[NodeLease]:
    """The registry leases (in Redis) of this process's running stacks' relay nodes.

    Each test starts with the run's cache cleared (tests/conftest.py), which took these
    leases too: the node only noticed at its next renewal (every LEASE_RENEW_SECONDS) and
    until then no tunnel it held could be found, so each test waiting for its agent to be
    reachable through a module's or the session's stack waited most of 10 s for that.
    ``clear_own_cache`` puts them back at once, as the node itself would."""
    if not _running_relay_urls:
        return []
    from django.core.cache import cache
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    node_ids = [raw.decode() for raw in redis.zrange(cache.make_key("tunnel:nodes"), 0, -1)]
    if not node_ids:
        return []
    values = redis.mget([cache.make_key(f"tunnel:node:{node_id}") for node_id in node_ids])
    return [
        NodeLease(node_id=node_id, node_url=url)
        for node_id, value in zip(node_ids, values, strict=True)
        if value is not None and (url := json.loads(value)["url"]) in _running_relay_urls
    ]


def stack_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _require_stack_services() -> None:
    from tests.conftest import REQUIRE_SERVICES

    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not settings.REDIS_URL:
        missing.append("Redis (REDIS_URL)")
    if not Path(NGINX).exists():
        missing.append(f"nginx at {NGINX} (apt-get install nginx)")
    if missing:
        message = "the loopback stack needs " + ", ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


class StackFactory:
    def __init__(self, static_root: Path, work_root: Path) -> None:
        self.static_root = static_root
        self.work_root = work_root
        self.started: list[LoopbackStack] = []

    def start(self, *, env: dict[str, str] | None = None, **options) -> LoopbackStack:
        """A stack on the test database; ``env``: settings on top of TEST_STACK_ENV."""
        _require_stack_services()
        stack_env = {
            **TEST_STACK_ENV,
            "VISIONA_TEST_CACHE_KEY_PREFIX": settings.TEST_CACHE_KEY_PREFIX,
            # The suite's own secrets: its sessions (their auth hash) and its relay calls
            # are then the stack's too.
            "SECRET_KEY": settings.SECRET_KEY,
            "RELAY_INTERNAL_SECRET": settings.RELAY_INTERNAL_SECRET,
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        stack = LoopbackStack(
            database_url=stack_database_url(),
            redis_url=settings.REDIS_URL,
            env=stack_env,
            settings_module="tests.settings",
            migrate=False,
            static_root=self.static_root,
            work_dir=self.work_root / f"stack-{len(self.started)}-{time.monotonic_ns()}",
            **options,
        )
        # The sandbox's stand-ins (tests.settings mounts them) answer as the upstreams.
        sandbox = f"{stack.direct_base_url}/sandbox"
        upstreams = {
            "CONVERTER_BASE_URL": f"{sandbox}/converter",
            "FAA_BASE_URL": f"{sandbox}/faa",
            "MC_SERVICE_ISSUER": f"{sandbox}/mc",
            "MC_SERVICE_CLIENT_ID": "visiona-stack",
            "MC_SERVICE_CLIENT_SECRET": "stack-secret",
            "SANDBOX_STAGE_SECONDS": "0",
        }
        for name, value in upstreams.items():
            stack.env.setdefault(name, value)
        self.started.append(stack)
        _running_relay_urls.update(stack.relay_internal_urls)
        stack.start()
        return stack

    def stop_all(self) -> None:
        while self.started:
            stack = self.started.pop()
            _running_relay_urls.difference_update(stack.relay_internal_urls)
            stack.stop()
            stack.remove()


@pytest.fixture(scope="session")
def _stack_static_root(tmp_path_factory) -> Path:
    """collectstatic's folder and the error pages, made once per run (by the first stack)."""
    return tmp_path_factory.mktemp("stack-static")


@pytest.fixture(scope="session")
def loopback_stack(django_db_setup, django_db_blocker, _stack_static_root, tmp_path_factory):
    factory = StackFactory(_stack_static_root, tmp_path_factory.mktemp("stacks"))
    try:
        yield factory.start()
    finally:
        factory.stop_all()


@pytest.fixture
def loopback_stack_factory(django_db_setup, _stack_static_root, tmp_path) -> Iterator[StackFactory]:
    factory = StackFactory(_stack_static_root, tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


def use_stack_storage(settings, stack: LoopbackStack) -> Path:
    """Point this process's models storage at the stack's folder: a model the test
    stores is then the one the stack serves. Returns the folder."""
    folder = stack.data_dir / "models"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }
    return folder


def signed_in_session(user) -> str:
    """A session key for ``user``, stored as a password sign-in would store it."""
    from visiona.sessions import start_session_clock

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "visiona.auth.backends.PasswordBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    start_session_clock(store, time.time())
    store.create()
    return store.session_key


__all__ = [
    "TEST_STACK_ENV",
    "StackFactory",
    "loopback_stack",
    "loopback_stack_factory",
    "signed_in_session",
    "stack_database_url",
    "use_stack_storage",
]
