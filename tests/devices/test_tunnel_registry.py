"""The tunnel registry on both stores: the database, and Redis when REDIS_URL is set."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from devices import tunnel_registry
from devices.models import TunnelRegistration as Row

NODE_A = "http://127.0.0.1:3801"
NODE_B = "http://10.0.0.2:3801"

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings):
    """Run each test on each store; the store follows settings.REDIS_URL."""
    if request.param == "database":
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def device_id(alice_device) -> str:
    return str(alice_device.device.pk)


def connection() -> str:
    return uuid.uuid4().hex


def test_register_then_lookup(store, device_id):
    conn = connection()
    tunnel_registry.register(device_id=device_id, node_url=NODE_A, connection_id=conn)
    found = tunnel_registry.lookup(device_id)
    assert found is not None
    assert (found.device_id, found.node_url, found.connection_id) == (device_id, NODE_A, conn)
    assert found.connected_at.tzinfo is not None
    assert found.refreshed_at >= found.connected_at


def test_lookup_of_an_unknown_or_malformed_device_is_none(store, device_id):
    assert tunnel_registry.lookup(device_id) is None
    assert tunnel_registry.lookup(str(uuid.uuid4())) is None
    assert tunnel_registry.lookup("not-a-uuid") is None
    assert tunnel_registry.lookup_many(["not-a-uuid"]) == {}


def test_a_new_connection_replaces_the_old_and_the_old_cannot_delete_it(store, device_id):
    old, new = connection(), connection()
    tunnel_registry.register(device_id=device_id, node_url=NODE_A, connection_id=old)
    tunnel_registry.register(device_id=device_id, node_url=NODE_B, connection_id=new)
    # The old connection closes late: its unregister and refresh must not touch the new entry.
    tunnel_registry.unregister(device_id=device_id, connection_id=old)
    assert tunnel_registry.refresh(device_id=device_id, connection_id=old) is False
    found = tunnel_registry.lookup(device_id)
    assert (found.node_url, found.connection_id) == (NODE_B, new)
    tunnel_registry.unregister(device_id=device_id, connection_id=new)
    assert tunnel_registry.lookup(device_id) is None


@pytest.fixture
def clock(monkeypatch):
    """The registry's clock, moved by hand (the database store's; Redis keeps its own)."""
    now = {"at": tunnel_registry._now()}
    monkeypatch.setattr(tunnel_registry, "_now", lambda: now["at"])

    def advance(seconds: float) -> None:
        now["at"] += timedelta(seconds=seconds)

    return advance


def wait_for(condition, *, timeout: float = 60.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)


def redis_ttl_ms(device_id: str) -> int:
    from django_redis import get_redis_connection

    return get_redis_connection("default").pttl(tunnel_registry._RedisBackend()._key(device_id))


def test_a_refresh_extends_the_entry(store, device_id, clock):
    conn = connection()
    tunnel_registry.register(
        device_id=device_id, node_url=NODE_A, connection_id=conn, ttl_seconds=1
    )
    assert tunnel_registry.refresh(device_id=device_id, connection_id=conn, ttl_seconds=3600)
    if store == "redis":
        assert redis_ttl_ms(device_id) > 60_000  # Redis's own TTL moved: no waiting
    else:
        clock(5)  # past the first lifetime, within the refreshed one
    assert tunnel_registry.lookup(device_id).connection_id == conn


def test_an_entry_expires_unless_refreshed(store, device_id, clock):
    conn = connection()
    tunnel_registry.register(
        device_id=device_id, node_url=NODE_A, connection_id=conn, ttl_seconds=1
    )
    if store == "redis":
        wait_for(lambda: tunnel_registry.lookup(device_id) is None, what="the entry's TTL")
    else:
        clock(1.5)
    assert tunnel_registry.lookup(device_id) is None
    # An expired entry is not ours any more: refreshing cannot bring it back.
    assert tunnel_registry.refresh(device_id=device_id, connection_id=conn) is False
    assert tunnel_registry.lookup(device_id) is None


def test_refresh_moves_refreshed_at_only(store, device_id, clock):
    conn = connection()
    tunnel_registry.register(device_id=device_id, node_url=NODE_A, connection_id=conn)
    first = tunnel_registry.lookup(device_id)
    clock(0.05)
    assert tunnel_registry.refresh(device_id=device_id, connection_id=conn)
    second = tunnel_registry.lookup(device_id)
    assert second.connected_at == first.connected_at
    assert second.refreshed_at > first.refreshed_at


def test_lookup_many_returns_the_live_ones_keyed_as_asked(store, device_id, bob, issue_code, pair):
    other = str(pair(issue_code(bob).code).device.pk)
    absent = str(uuid.uuid4())
    tunnel_registry.register(device_id=device_id, node_url=NODE_A, connection_id=connection())
    tunnel_registry.register(device_id=other, node_url=NODE_B, connection_id=connection())
    upper = other.upper()
    found = tunnel_registry.lookup_many([device_id, upper, absent])
    assert set(found) == {device_id, upper}
    assert found[upper].node_url == NODE_B


def test_the_store_follows_redis_url(store, device_id):
    tunnel_registry.register(device_id=device_id, node_url=NODE_A, connection_id=connection())
    assert Row.objects.exists() is (store == "database")
