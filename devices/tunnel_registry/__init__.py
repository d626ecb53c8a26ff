"""The tunnel registry: which relay node holds a device's live tunnel.

Liveness is paid per node, not per tunnel. Each relay node process holds a
**lease** (``NodeLease``: a node id made at start, and the node's internal URL)
that it renews every ``LEASE_RENEW_SECONDS``; the lease lives
``LEASE_TTL_SECONDS`` past its last renewal. A device's **entry** names the
node and the connection holding its tunnel, and has no lifetime of its own: it
is valid exactly while its node's lease is. So a node with 10,000 tunnels
renews one lease, not 10,000 entries, and when it dies all its entries read
absent together, ``LEASE_TTL_SECONDS`` after its last renewal at the latest.

- ``register`` (``register_many``): this connection now holds the device's
  tunnel (replacing any other entry, on any node).
- ``unregister`` (``unregister_many``): compare-and-delete: only while the entry
  is still this connection's, so a replaced connection closing late never
  deletes its successor's entry, even on another node.
- ``lease_renew`` answers False when the lease was lost (a registry outage, a
  node stalled past the TTL, its entries swept): the node acquires it again and
  ``reclaim_many`` writes back each entry that is still its own.
- ``lease_release``: a clean stop; the lease and every entry under it go at once.
- ``sweep_dead_nodes``: any node clears what dead nodes left behind (entries
  are invisible already; this frees the store) and learns when each was last
  alive, for the devices' durable ``last_seen_at``.
- ``lookup`` / ``lookup_many``: any web instance finds any device.

Storage: Redis (the default cache, django-redis) when ``REDIS_URL`` is set
(``redis_store``), the database otherwise (``database_store``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

LEASE_TTL_SECONDS = 30
LEASE_RENEW_SECONDS = 10


@dataclass(frozen=True)
class NodeLease:
    """One relay node process: its id (new at every start) and its internal URL."""

    node_id: str  # uuid4 hex
    node_url: str  # e.g. "http://127.0.0.1:3801" (the node's internal port)

    @classmethod
    def new(cls, node_url: str) -> NodeLease:
        return cls(node_id=uuid.uuid4().hex, node_url=node_url)

    @classmethod
    def standing(cls, node_url: str) -> NodeLease:
        """The same id for the same URL: for a caller that speaks for a node without
        running one (``register`` without a lease)."""
        return cls(node_id=uuid.uuid5(uuid.NAMESPACE_URL, node_url).hex, node_url=node_url)


@dataclass(frozen=True)
class TunnelRegistration:
    device_id: str  # str(UUID)
    node_url: str  # the holding node's internal URL
    connection_id: str  # uuid4 hex of this WebSocket connection
    connected_at: datetime  # aware, UTC
    refreshed_at: datetime  # when the registry last vouched for it (its node's renewal)
    node_id: str = ""


@dataclass(frozen=True)
class DeadNode:
    """A node whose lease ran out, swept: when it was last alive, the devices it held."""

    node_id: str
    last_renewed_at: datetime | None
    device_ids: list[str]


Connection = tuple[str, str]  # (device id, connection id)


def lease_acquire(lease: NodeLease, *, ttl_seconds: int = LEASE_TTL_SECONDS) -> None:
    """Start (or take back) the node's lease; its entries are valid from now."""
    _backend().lease_acquire(lease, ttl_seconds, _now())


def lease_renew(lease: NodeLease, *, ttl_seconds: int = LEASE_TTL_SECONDS) -> bool:
    """Extend the lease; False when it was lost (then ``lease_acquire`` and
    ``reclaim_many``)."""
    return _backend().lease_renew(lease, ttl_seconds, _now())


def lease_release(lease: NodeLease) -> list[str]:
    """End the lease and delete the entries still under it; their device ids."""
    return _backend().lease_release(lease)


def register(
    *,
    device_id: str,
    connection_id: str,
    lease: NodeLease | None = None,
    node_url: str | None = None,
) -> None:
    """This connection now holds the device's tunnel (replacing any other entry).

    Without ``lease``, a standing lease for ``node_url`` is acquired first: for a
    caller speaking for a node it does not run (tools, tests). Its entries read
    absent ``LEASE_TTL_SECONDS`` later unless someone renews it.
    """
    if lease is None:
        if not node_url:
            raise ValueError("register needs a lease or a node_url")
        lease = NodeLease.standing(node_url)
        lease_acquire(lease)
    register_many(lease=lease, connections=[(device_id, connection_id)])


def register_many(*, lease: NodeLease, connections: Sequence[Connection]) -> None:
    if connections:
        _backend().register_many(lease, _normalised(connections), _now())


def reclaim_many(*, lease: NodeLease, connections: Sequence[Connection]) -> list[str]:
    """Write back each entry that is absent or still this connection's; the device
    ids whose entry another connection holds now (those tunnels are stale)."""
    if not connections:
        return []
    return _backend().reclaim_many(lease, _normalised(connections), _now())


def unregister(*, device_id: str, connection_id: str, lease: NodeLease | None = None) -> None:
    """Delete the entry, but only while it is still this connection's."""
    unregister_many(lease=lease, connections=[(device_id, connection_id)])


def unregister_many(*, lease: NodeLease | None, connections: Sequence[Connection]) -> None:
    if connections:
        _backend().unregister_many(lease, _normalised(connections))


def lookup(device_id: str) -> TunnelRegistration | None:
    """The device's live registration; None when absent or its node's lease ran out."""
    return lookup_many([device_id]).get(device_id)


def lookup_many(device_ids: Sequence[str]) -> dict[str, TunnelRegistration]:
    """The live registrations of those devices, keyed by the ids as given."""
    wanted = {}
    for raw in device_ids:
        try:
            wanted[_device_id(raw)] = raw
        except ValueError:
            continue  # not a device id: no device, so no tunnel
    if not wanted:
        return {}
    found = _backend().lookup_many(list(wanted), _now())
    return {wanted[key]: registration for key, registration in found.items()}


def sweep_dead_nodes() -> list[DeadNode]:
    """Delete the entries of nodes whose lease ran out; what each held."""
    return _backend().sweep_dead_nodes(_now())


def _normalised(connections: Sequence[Connection]) -> list[Connection]:
    return [(_device_id(device_id), connection_id) for device_id, connection_id in connections]


def _device_id(raw: str) -> str:
    # One spelling for one device, whatever the caller had (UUID, hex, upper case).
    return str(uuid.UUID(str(raw)))


def _now() -> datetime:
    return timezone.now().astimezone(UTC)


def _backend():
    if settings.REDIS_URL:
        from devices.tunnel_registry.redis_store import RedisStore

        return RedisStore()
    from devices.tunnel_registry.database_store import DatabaseStore

    return DatabaseStore()
