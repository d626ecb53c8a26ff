"""A relay node's liveness work, in this process: its loops run once each, against the
real registry and database, with stand-in tunnels (no sockets)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import services, tunnel_registry
from devices.models import Device
from relay import auth
from relay.h2_session import StreamFailed
from relay.node import RelayNode
from tests.client.conftest import wait_for
from tests.models_repo.conftest import make_model, nef_bytes  # noqa: F401  (fixtures)

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


@pytest.fixture(autouse=True)
def _close_worker_connections():
    """The node's worker threads opened their own database connections: close them
    (in each thread) before the test database is flushed."""
    yield
    auth.close_connections()


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
