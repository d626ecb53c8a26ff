"""The tunnel registry on both stores: the database, and Redis when REDIS_URL is set.

Entries live under their relay node's lease: valid while it is, without a lifetime
of their own.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from devices import tunnel_registry
from devices.models import TunnelRegistration as Row
from devices.tunnel_registry import NodeLease
from tests.waiting import wait_for

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


@pytest.fixture
def other_device_id(bob, issue_code, pair) -> str:
    return str(pair(issue_code(bob).code).device.pk)


def connection() -> str:
    return uuid.uuid4().hex


def node(url: str = "http://127.0.0.1:3801", *, ttl: int = 30) -> NodeLease:
    lease = NodeLease.new(url)
    tunnel_registry.lease_acquire(lease, ttl_seconds=ttl)
    return lease


def test_register_then_lookup(store, device_id):
    lease, conn = node(), connection()
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=conn)
    found = tunnel_registry.lookup(device_id)
    assert (found.device_id, found.node_url, found.connection_id) == (
        device_id,
        lease.node_url,
        conn,
    )
    assert found.node_id == lease.node_id
    assert found.connected_at.tzinfo is not None
    assert found.refreshed_at >= found.connected_at


def test_lookup_of_an_unknown_or_malformed_device_is_none(store, device_id):
    assert tunnel_registry.lookup(device_id) is None
    assert tunnel_registry.lookup(str(uuid.uuid4())) is None
    assert tunnel_registry.lookup("not-a-uuid") is None
    assert tunnel_registry.lookup_many(["not-a-uuid"]) == {}


def test_a_new_connection_elsewhere_replaces_the_old_which_cannot_delete_it(store, device_id):
    node_a, node_b = node("http://10.0.0.1:3801"), node("http://10.0.0.2:3801")
    old, new = connection(), connection()
    tunnel_registry.register(lease=node_a, device_id=device_id, connection_id=old)
    tunnel_registry.register(lease=node_b, device_id=device_id, connection_id=new)
    # The old connection closes late: its unregister must not touch the new entry.
    tunnel_registry.unregister(lease=node_a, device_id=device_id, connection_id=old)
    found = tunnel_registry.lookup(device_id)
    assert (found.node_url, found.connection_id) == (node_b.node_url, new)
    # Nor can the old node's death or release take it.
    assert device_id not in tunnel_registry.lease_release(node_a)
    assert tunnel_registry.lookup(device_id).connection_id == new
    tunnel_registry.unregister(lease=node_b, device_id=device_id, connection_id=new)
    assert tunnel_registry.lookup(device_id) is None


@pytest.fixture
def clock(monkeypatch):
    """The registry's clock, moved by hand (the database store's; Redis keeps its own)."""
    now = {"at": tunnel_registry._now()}
    monkeypatch.setattr(tunnel_registry, "_now", lambda: now["at"])

    def advance(seconds: float) -> None:
        now["at"] += timedelta(seconds=seconds)

    return advance


def lease_ttl_ms(lease: NodeLease) -> int:
    from django.core.cache import cache
    from django_redis import get_redis_connection

    return get_redis_connection("default").pttl(cache.make_key(f"tunnel:node:{lease.node_id}"))


def test_a_renewal_keeps_every_entry_of_the_node(store, device_id, clock):
    lease = node(ttl=1)
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=connection())
    assert tunnel_registry.lease_renew(lease, ttl_seconds=3600)
    if store == "redis":
        assert lease_ttl_ms(lease) > 60_000  # Redis's own TTL moved: no waiting
    else:
        clock(5)  # past the first lifetime, within the renewed one
    assert tunnel_registry.lookup(device_id) is not None


def test_a_dead_nodes_entries_read_absent_by_themselves(store, device_id, clock):
    lease = node(ttl=1)
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=connection())
    if store == "redis":
        wait_for(lambda: tunnel_registry.lookup(device_id) is None, timeout=10, interval=0.05)
    else:
        clock(1.5)
    assert tunnel_registry.lookup(device_id) is None


def test_renewing_moves_refreshed_at_not_connected_at(store, device_id):
    lease = node()
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=connection())
    first = tunnel_registry.lookup(device_id)
    wait_for(lambda: tunnel_registry._now() > first.refreshed_at, timeout=5, interval=0.01)
    assert tunnel_registry.lease_renew(lease)
    second = tunnel_registry.lookup(device_id)
    assert second.connected_at == first.connected_at
    assert second.refreshed_at > first.refreshed_at


def test_a_lost_lease_is_taken_back_and_its_entries_reclaimed(store, device_id, other_device_id):
    lease = node(ttl=1)
    mine, theirs = connection(), connection()
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=mine)
    tunnel_registry.register(lease=lease, device_id=other_device_id, connection_id=connection())
    wait_for(lambda: tunnel_registry.lookup(device_id) is None, timeout=10, interval=0.1)
    tunnel_registry.sweep_dead_nodes()
    # Meanwhile the other device connected again, to another node.
    tunnel_registry.register(lease=node(), device_id=other_device_id, connection_id=theirs)

    assert tunnel_registry.lease_renew(lease) is False
    tunnel_registry.lease_acquire(lease)
    lost = tunnel_registry.reclaim_many(
        lease=lease, connections=[(device_id, mine), (other_device_id, "stale")]
    )
    assert lost == [other_device_id]
    assert tunnel_registry.lookup(device_id).connection_id == mine
    assert tunnel_registry.lookup(other_device_id).connection_id == theirs


def test_releasing_a_lease_removes_its_entries_at_once(store, device_id, other_device_id):
    leaving, staying = node(), node("http://10.0.0.2:3801")
    tunnel_registry.register(lease=leaving, device_id=device_id, connection_id=connection())
    tunnel_registry.register(lease=staying, device_id=other_device_id, connection_id=connection())
    assert tunnel_registry.lease_release(leaving) == [device_id]
    assert tunnel_registry.lookup(device_id) is None
    assert tunnel_registry.lookup(other_device_id).node_url == staying.node_url
    assert tunnel_registry.lease_renew(leaving) is False


def test_a_sweep_clears_dead_nodes_only(store, device_id, other_device_id):
    dead, alive = node(ttl=1), node("http://10.0.0.2:3801")
    tunnel_registry.register(lease=dead, device_id=device_id, connection_id=connection())
    tunnel_registry.register(lease=alive, device_id=other_device_id, connection_id=connection())
    assert tunnel_registry.sweep_dead_nodes() == []  # nobody is dead yet

    wait_for(lambda: tunnel_registry.lookup(device_id) is None, timeout=10, interval=0.1)
    swept = wait_for(lambda: tunnel_registry.sweep_dead_nodes(), timeout=10)
    assert [(d.node_id, d.device_ids) for d in swept] == [(dead.node_id, [device_id])]
    assert swept[0].last_renewed_at is not None
    assert tunnel_registry.lookup(other_device_id).node_url == alive.node_url
    # Gone from the store, not only invisible: taking the lease back shows nothing.
    tunnel_registry.lease_acquire(dead)
    assert tunnel_registry.lookup(device_id) is None
    assert tunnel_registry.sweep_dead_nodes() == []


def test_lookup_many_returns_the_live_ones_keyed_as_asked(store, device_id, other_device_id):
    node_a, node_b = node(), node("http://10.0.0.2:3801")
    tunnel_registry.register_many(lease=node_a, connections=[(device_id, connection())])
    tunnel_registry.register_many(lease=node_b, connections=[(other_device_id, connection())])
    upper, absent = other_device_id.upper(), str(uuid.uuid4())
    found = tunnel_registry.lookup_many([device_id, upper, absent])
    assert set(found) == {device_id, upper}
    assert found[upper].node_url == node_b.node_url


def test_register_without_a_lease_speaks_for_a_standing_node(store, device_id):
    tunnel_registry.register(device_id=device_id, node_url="http://n:3801", connection_id="c1")
    assert tunnel_registry.lookup(device_id).node_url == "http://n:3801"
    with pytest.raises(ValueError):
        tunnel_registry.register(device_id=device_id, connection_id="c2")


def test_the_store_follows_redis_url(store, device_id):
    tunnel_registry.register(lease=node(), device_id=device_id, connection_id=connection())
    assert Row.objects.exists() is (store == "database")


@pytest.mark.redis
def test_redis_entries_have_no_lifetime_of_their_own(device_id):
    from django.core.cache import cache
    from django_redis import get_redis_connection

    lease = node()
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=connection())
    redis = get_redis_connection("default")
    # Renewing a node costs one key, whatever the number of its tunnels.
    assert redis.ttl(cache.make_key(f"tunnel:device:{device_id}")) == -1
    assert 0 < redis.ttl(cache.make_key(f"tunnel:node:{lease.node_id}")) <= 30


@pytest.mark.redis
def test_a_redis_lookup_of_many_reads_past_one_call_and_skips_half_written_entries(device_id):
    from django.core.cache import cache
    from django_redis import get_redis_connection

    lease = node()
    tunnel_registry.register(lease=lease, device_id=device_id, connection_id=connection())
    half_written = str(uuid.uuid4())
    get_redis_connection("default").hset(
        cache.make_key(f"tunnel:device:{half_written}"), mapping={"node_id": lease.node_id}
    )
    # More ids than one script call takes: the registered one comes last.
    asked = [str(uuid.uuid4()) for _ in range(700)] + [half_written, device_id]
    found = tunnel_registry.lookup_many(asked)
    assert list(found) == [device_id]
    assert found[device_id].node_url == lease.node_url
