"""The tunnel registry: which relay node holds a device's live tunnel.

A relay node ``register``s a connection when an agent's tunnel opens,
``refresh``es it every 10 s (TTL 30 s) and ``unregister``s it when it closes;
any web instance ``lookup``s a device to find the node's internal URL.

Each entry carries the id of the connection that wrote it. ``refresh`` and
``unregister`` act only while the entry is still that connection's, so an old
connection that was replaced (the agent reconnected, perhaps to another node)
never deletes or extends its successor's entry. An entry its node stopped
refreshing (the node died) expires by itself.

Storage: Redis (the default cache, django-redis) when ``REDIS_URL`` is set, the
``devices.TunnelRegistration`` table otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

DEFAULT_TTL_SECONDS = 30
REFRESH_INTERVAL_SECONDS = 10
_KEY = "tunnel:device:{}"
_FIELDS = ("device_id", "node_url", "connection_id", "connected_at", "refreshed_at")


@dataclass(frozen=True)
class TunnelRegistration:
    device_id: str  # str(UUID)
    node_url: str  # e.g. "http://127.0.0.1:3801" (the node's internal port)
    connection_id: str  # uuid4 hex of this WebSocket connection
    connected_at: datetime  # aware, UTC
    refreshed_at: datetime


def register(
    *, device_id: str, node_url: str, connection_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
) -> None:
    """This connection now holds the device's tunnel (replacing any other entry)."""
    _backend().register(_device_id(device_id), node_url, connection_id, ttl_seconds, _now())


def refresh(*, device_id: str, connection_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> bool:
    """Extend the entry; False when it is no longer this connection's (replaced or expired)."""
    return _backend().refresh(_device_id(device_id), connection_id, ttl_seconds, _now())


def unregister(*, device_id: str, connection_id: str) -> None:
    """Delete the entry, but only while it is still this connection's."""
    _backend().unregister(_device_id(device_id), connection_id)


def lookup(device_id: str) -> TunnelRegistration | None:
    """The device's live registration; None when absent or expired."""
    return lookup_many([device_id]).get(device_id)


def lookup_many(device_ids: list[str]) -> dict[str, TunnelRegistration]:
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


def _device_id(raw: str) -> str:
    # One spelling for one device, whatever the caller had (UUID, hex, upper case).
    return str(uuid.UUID(str(raw)))


def _now() -> datetime:
    return timezone.now().astimezone(UTC)


def _backend():
    return _RedisBackend() if settings.REDIS_URL else _DatabaseBackend()


class _DatabaseBackend:
    def register(self, device_id, node_url, connection_id, ttl, now) -> None:
        from devices.models import TunnelRegistration as Row

        Row.objects.update_or_create(
            device_id=device_id,
            defaults={
                "node_url": node_url,
                "connection_id": connection_id,
                "connected_at": now,
                "refreshed_at": now,
                "expires_at": now + timedelta(seconds=ttl),
            },
        )

    def refresh(self, device_id, connection_id, ttl, now) -> bool:
        from devices.models import TunnelRegistration as Row

        # One conditional UPDATE: atomic against a replacing register().
        return bool(
            Row.objects.filter(
                device_id=device_id, connection_id=connection_id, expires_at__gt=now
            ).update(refreshed_at=now, expires_at=now + timedelta(seconds=ttl))
        )

    def unregister(self, device_id, connection_id) -> None:
        from devices.models import TunnelRegistration as Row

        Row.objects.filter(device_id=device_id, connection_id=connection_id).delete()

    def lookup_many(self, device_ids, now) -> dict[str, TunnelRegistration]:
        from devices.models import TunnelRegistration as Row

        rows = Row.objects.filter(device_id__in=device_ids, expires_at__gt=now)
        return {
            str(row.device_id): TunnelRegistration(
                device_id=str(row.device_id),
                node_url=row.node_url,
                connection_id=row.connection_id,
                connected_at=row.connected_at,
                refreshed_at=row.refreshed_at,
            )
            for row in rows
        }


# KEYS[1] the entry; ARGV[1] the connection id. Compare and act in one step on the server.
_REFRESH = """
if redis.call('HGET', KEYS[1], 'connection_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refreshed_at', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""
_UNREGISTER = """
if redis.call('HGET', KEYS[1], 'connection_id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _RedisBackend:
    """A hash per device under the cache's key prefix, TTL = the entry's lifetime."""

    def __init__(self) -> None:
        from django.core.cache import cache
        from django_redis import get_redis_connection

        self._cache = cache
        self._redis = get_redis_connection("default")

    def _key(self, device_id: str) -> str:
        return self._cache.make_key(_KEY.format(device_id))

    def register(self, device_id, node_url, connection_id, ttl, now) -> None:
        key, stamp = self._key(device_id), now.isoformat()
        entry = {
            "device_id": device_id,
            "node_url": node_url,
            "connection_id": connection_id,
            "connected_at": stamp,
            "refreshed_at": stamp,
        }
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=entry)
            pipe.expire(key, ttl)
            pipe.execute()

    def refresh(self, device_id, connection_id, ttl, now) -> bool:
        result = self._redis.eval(
            _REFRESH, 1, self._key(device_id), connection_id, now.isoformat(), ttl
        )
        return bool(result)

    def unregister(self, device_id, connection_id) -> None:
        self._redis.eval(_UNREGISTER, 1, self._key(device_id), connection_id)

    def lookup_many(self, device_ids, now) -> dict[str, TunnelRegistration]:
        with self._redis.pipeline(transaction=False) as pipe:
            for device_id in device_ids:
                pipe.hgetall(self._key(device_id))
            entries = pipe.execute()
        found = {}
        for device_id, entry in zip(device_ids, entries, strict=True):
            fields = {key.decode(): value.decode() for key, value in entry.items()}
            if not all(name in fields for name in _FIELDS):
                continue  # absent, expired, or half-written by something else
            found[device_id] = TunnelRegistration(
                device_id=fields["device_id"],
                node_url=fields["node_url"],
                connection_id=fields["connection_id"],
                connected_at=datetime.fromisoformat(fields["connected_at"]),
                refreshed_at=datetime.fromisoformat(fields["refreshed_at"]),
            )
        return found
