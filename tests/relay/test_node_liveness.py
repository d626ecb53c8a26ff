"""A relay node's liveness work, in this process: its loops run once each, against the
real registry and database, with stand-in tunnels (no sockets)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from devices import liveness, services, token_changes, tunnel_registry
from devices.models import Device, DeviceToken
from relay.h2_session import StreamFailed
from relay.node import RelayNode
from tests.models_repo.conftest import make_model, nef_bytes  # noqa: F401  (fixtures)
from tests.relay.test_token_checks import Clock
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
NODE_URL = "http://127.0.0.1:3801"


class StandInSession:
    """What the node reads of a tunnel, and what it asks of one."""

    def __init__(self, device_id: str, token_hash: str = "") -> None:
        self.device_id = device_id
        self.token_hash = token_hash or uuid.uuid4().hex * 2
        self.connection_id = uuid.uuid4().hex
        self.close_reason = ""
        self.closed = asyncio.Event()
        self.opened_paths: list[str] = []

    def close(self, reason: str) -> None:
        self.close_reason = reason

    async def open_stream(self, headers, *, end_stream: bool):
        self.opened_paths.append(dict(headers)[b":path"].decode())
        raise StreamFailed("a stand-in has no agent")


def run(coroutine):
    return asyncio.run(coroutine)


def holding(node: RelayNode, *sessions: StandInSession) -> None:
    for session in sessions:
        node.sessions[session.device_id] = session
    tunnel_registry.register_many(
        lease=node.lease, connections=[(s.device_id, s.connection_id) for s in sessions]
    )


@pytest.fixture
def alice_devices(alice):
    """``alice_devices(n)``: n more paired KL720 devices of Alice's (PairingResults)."""
    counter = itertools.count(1)

    def make(count: int):
        return [
            services.device_pair(
                code=services.pairing_code_create(user=alice).code,
                serial=f"NODE-{next(counter):03d}",
                chip="KL720",
                client_address="192.0.2.10",
            )
            for _ in range(count)
        ]

    return make


@pytest.fixture
def node() -> RelayNode:
    relay_node = RelayNode(node_url=NODE_URL)
    tunnel_registry.lease_acquire(relay_node.lease)
    return relay_node


def test_opens_and_closes_are_written_as_last_seen_in_one_batch(node, alice_devices):
    devices = [result.device for result in alice_devices(3)]
    for device in devices:
        node.last_seen.opened(str(device.pk))
    node.last_seen.closed(str(devices[2].pk))
    before = timezone.now()
    run(node.write_last_seen())
    for device in Device.objects.filter(pk__in=[d.pk for d in devices]):
        assert device.last_seen_at >= before
    assert node.last_seen.take() == []  # nothing more until an interval has passed


def test_a_revoked_token_closes_its_tunnel_and_leaves_the_handshake_cache(node, alice_devices):
    kept, revoked = alice_devices(2)
    sessions = [
        StandInSession(str(result.device.pk), token_hash=result.device_token.pk)
        for result in (kept, revoked)
    ]
    holding(node, *sessions)
    node.tokens._remember(revoked.device_token.pk, object(), now=0.0)  # a cached "usable"
    node.tokens._clock = lambda: 1.0
    assert revoked.device_token.pk in node.tokens.cached_usable()

    services.device_token_revoke(device_token=revoked.device_token)
    run(node.recheck_tokens())
    assert sessions[0].close_reason == ""
    assert sessions[1].close_reason == "token revoked or expired, or device unpaired"
    assert revoked.device_token.pk not in node.tokens.cached_usable()


def test_a_lost_lease_is_taken_back_and_stale_tunnels_closed(node, alice_devices):
    mine, moved = (StandInSession(str(r.device.pk)) for r in alice_devices(2))
    holding(node, mine, moved)
    tunnel_registry.lease_release(node.lease)  # as a sweeper would, after an outage
    other = tunnel_registry.NodeLease.new("http://10.0.0.2:3801")
    tunnel_registry.lease_acquire(other)
    tunnel_registry.register(lease=other, device_id=moved.device_id, connection_id="elsewhere")

    run(node.renew_lease())
    assert tunnel_registry.lookup(mine.device_id).connection_id == mine.connection_id
    assert tunnel_registry.lookup(moved.device_id).connection_id == "elsewhere"
    assert (mine.close_reason, moved.close_reason) == ("", "the device connected again elsewhere")


def test_a_dead_nodes_devices_are_swept_with_their_last_sign_of_life(node, alice_devices):
    seen_before, seen_after = (r.device for r in alice_devices(2))
    dead = tunnel_registry.NodeLease.new("http://10.0.0.9:3801")
    tunnel_registry.lease_acquire(dead, ttl_seconds=1)
    tunnel_registry.register_many(
        lease=dead, connections=[(str(seen_before.pk), "c1"), (str(seen_after.pk), "c2")]
    )
    assert tunnel_registry.lease_renew(dead, ttl_seconds=1)  # its last sign of life
    last_alive = tunnel_registry.lookup(str(seen_before.pk)).refreshed_at
    # One device was seen since (elsewhere, by a heartbeat): that later time stays.
    later = timezone.now() + timedelta(minutes=5)
    Device.objects.filter(pk=seen_after.pk).update(last_seen_at=later)

    wait_for(lambda: tunnel_registry.lookup(str(seen_before.pk)) is None, timeout=10)
    run(node.sweep_dead_nodes())
    assert Device.objects.get(pk=seen_before.pk).last_seen_at == last_alive
    assert Device.objects.get(pk=seen_after.pk).last_seen_at == later
    assert tunnel_registry.sweep_dead_nodes() == []  # nothing left to sweep


def test_devices_that_connect_with_work_waiting_are_nudged(node, alice, alice_devices, make_model):  # noqa: F811
    from deployments import services as deployment_services

    idle, busy = (StandInSession(str(r.device.pk)) for r in alice_devices(2))
    model = make_model(alice, "detector", chips=("KL720",), size=300_000)
    deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[busy.device_id]
    )
    node._just_connected = [idle, busy]

    async def push_and_settle():
        await node.push_waiting_work()
        await asyncio.gather(*node._background)

    run(push_and_settle())
    assert idle.opened_paths == []
    assert busy.opened_paths == ["/_visiona/deployments/sync"]


# --- The token re-check asks the database when a token changed --------------------------


@pytest.fixture
def clocked_node(monkeypatch):
    """A node whose re-check clock the test moves; ``token_rechecks`` counts the
    database queries its re-check asked."""
    clock = Clock()
    relay_node = RelayNode(node_url=NODE_URL, clock=clock)
    tunnel_registry.lease_acquire(relay_node.lease)
    relay_node.clock = clock
    relay_node.token_rechecks = 0
    asked = liveness.device_tokens_unusable

    def counted(**kwargs):
        relay_node.token_rechecks += 1
        return asked(**kwargs)

    monkeypatch.setattr(liveness, "device_tokens_unusable", counted)
    yield relay_node
    cache.delete(token_changes.STAMP_KEY)


@pytest.mark.redis
def test_the_recheck_asks_the_database_only_after_a_change_is_announced(
    clocked_node, alice_devices
):
    node = clocked_node
    kept, revoked = alice_devices(2)
    sessions = [
        StandInSession(str(result.device.pk), token_hash=result.device_token.pk)
        for result in (kept, revoked)
    ]
    holding(node, *sessions)
    run(node.recheck_tokens())  # the first round always asks
    assert node.token_rechecks == 1
    for _ in range(3):
        node.clock.now += 2
        run(node.recheck_tokens())
    assert node.token_rechecks == 1  # nothing changed: no query

    services.device_token_revoke(device_token=revoked.device_token)
    node.clock.now += 2
    run(node.recheck_tokens())
    assert node.token_rechecks == 2
    assert sessions[1].close_reason == "token revoked or expired, or device unpaired"
    assert sessions[0].close_reason == ""


@pytest.mark.redis
@pytest.mark.parametrize("change", ["unpair", "deactivate owner", "delete owner"])
def test_every_way_a_token_stops_working_is_announced(clocked_node, alice_devices, change):
    node = clocked_node
    [result] = alice_devices(1)
    session = StandInSession(str(result.device.pk), token_hash=result.device_token.pk)
    holding(node, session)
    run(node.recheck_tokens())
    before = token_changes.current()
    if change == "unpair":
        services.device_unpair(device=result.device)
    elif change == "deactivate owner":
        owner = result.device.owner
        owner.is_active = False
        owner.save(update_fields=["is_active"])
    else:
        result.device.owner.delete()
    assert token_changes.current() != before
    node.clock.now += 2
    run(node.recheck_tokens())
    assert node.token_rechecks == 2
    assert session.close_reason == "token revoked or expired, or device unpaired"


@pytest.mark.redis
def test_saving_an_active_user_announces_nothing(clocked_node, alice):
    before = token_changes.current()
    alice.last_login = timezone.now()  # every sign-in saves the user
    alice.save(update_fields=["last_login"])
    assert token_changes.current() == before


@pytest.mark.redis
def test_a_change_behind_the_apps_back_is_found_within_a_minute(clocked_node, alice_devices):
    node = clocked_node
    [result] = alice_devices(1)
    session = StandInSession(str(result.device.pk), token_hash=result.device_token.pk)
    holding(node, session)
    run(node.recheck_tokens())
    # A bulk update (SQL, a script): no signal, no stamp.
    DeviceToken.objects.filter(pk=result.device_token.pk).update(revoked_at=timezone.now())
    node.clock.now += 2
    run(node.recheck_tokens())
    assert session.close_reason == ""
    node.clock.now += token_changes.FULL_RECHECK_SECONDS
    run(node.recheck_tokens())
    assert session.close_reason == "token revoked or expired, or device unpaired"


def test_without_a_shared_stamp_every_round_asks(clocked_node, alice_devices, monkeypatch):
    monkeypatch.setattr(token_changes, "current", lambda: None)  # no Redis, or unreadable
    node = clocked_node
    [result] = alice_devices(1)
    holding(node, StandInSession(str(result.device.pk), token_hash=result.device_token.pk))
    for _ in range(3):
        run(node.recheck_tokens())
        node.clock.now += 2
    assert node.token_rechecks == 3


def test_there_is_no_shared_stamp_without_redis(settings, alice_devices):
    settings.REDIS_URL = ""
    [result] = alice_devices(1)
    services.device_token_revoke(device_token=result.device_token)  # announces nothing
    assert token_changes.current() is None


@pytest.mark.redis
def test_an_unreadable_stamp_means_asking(clocked_node, alice_devices, monkeypatch):
    node = clocked_node
    [result] = alice_devices(1)
    holding(node, StandInSession(str(result.device.pk), token_hash=result.device_token.pk))
    run(node.recheck_tokens())

    class Unreachable:
        def get(self, *args, **kwargs):
            raise ConnectionError("Redis is down")

    # The module's own reference: the re-check reads it in a worker thread.
    monkeypatch.setattr(token_changes, "cache", Unreachable())
    node.clock.now += 2
    run(node.recheck_tokens())
    assert node.token_rechecks == 2


@pytest.mark.redis
def test_a_change_is_announced_only_once_committed(clocked_node, alice_devices):
    [result] = alice_devices(1)
    before = token_changes.current()
    with transaction.atomic():
        services.device_token_revoke(device_token=result.device_token)
        # A node that re-checked now would read the token as usable and stop asking.
        assert token_changes.current() == before
    assert token_changes.current() != before
