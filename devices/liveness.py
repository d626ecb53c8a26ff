"""What "online" means, and what liveness writes (docs/tunnel.md, "Liveness").

A device is **online** while its relay node holds its tunnel (the registry says
so: live state, never written to the database) or, for an agent without a
tunnel, while its last HTTP heartbeat is younger than
``DEVICE_ONLINE_THRESHOLD_SECONDS``.

The database keeps coarse history only: ``last_seen_at`` is written by the
relay nodes when a tunnel opens or closes, every ``RELAY_LAST_SEEN_WRITE_SECONDS``
while it stays open, and when a dead node's devices are swept (then the node's
last renewal), each as one UPDATE for a batch of devices.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from devices import tunnel_registry
from devices.models import Device, DeviceToken, online_since
from devices.tunnel_registry import TunnelRegistration

logger = logging.getLogger(__name__)

_CHUNK = 1000


# --- Reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    online: bool
    tunnel: TunnelRegistration | None
    last_seen_at: datetime | None  # the durable value, or the registry's when later


def live_state(*, device: Device, tunnel: TunnelRegistration | None) -> LiveState:
    last_seen = device.last_seen_at
    if tunnel is not None and (last_seen is None or tunnel.refreshed_at > last_seen):
        last_seen = tunnel.refreshed_at
    online = device.deleted_at is None and (tunnel is not None or device.heartbeat_is_recent())
    return LiveState(online=online, tunnel=tunnel, last_seen_at=last_seen)


def registrations(device_ids: Sequence[str]) -> dict[str, TunnelRegistration]:
    """The registry's entries for these devices; empty (and logged) when it fails:
    a registry outage shows tunnels as absent, it breaks no page."""
    if not device_ids:
        return {}
    try:
        return tunnel_registry.lookup_many(list(device_ids))
    except Exception:
        logger.warning("tunnel registry unavailable", exc_info=True)
        return {}


def with_live_state(
    devices: Iterable[Device], *, tunnels: Mapping[str, TunnelRegistration] | None = None
) -> list[Device]:
    """The devices, each knowing its live state (``device.live``), from one registry
    lookup (or ``tunnels`` already looked up). Its ``last_seen_at`` reads the live
    value too (in memory only)."""
    devices = list(devices)
    if tunnels is None:
        tunnels = registrations([str(device.pk) for device in devices])
    for device in devices:
        device.live = live_state(device=device, tunnel=tunnels.get(str(device.pk)))
        device.last_seen_at = device.live.last_seen_at
    return devices


def connection_summary(*, devices, tunnels: Mapping[str, TunnelRegistration] | None = None) -> dict:
    """``total``, ``online``, ``offline`` and the latest ``last_seen_at`` of a
    queryset of live devices: heartbeats from the database, tunnels from the registry
    (looked up here unless given)."""
    rows = list(devices.values_list("pk", "last_seen_at", "last_heartbeat_at"))
    if tunnels is None:
        tunnels = registrations([str(pk) for pk, _seen, _beat in rows])
    since = online_since()
    online = sum(
        1 for pk, _seen, beat in rows if str(pk) in tunnels or (beat is not None and beat >= since)
    )
    moments = [seen for _pk, seen, _beat in rows if seen]
    moments += [tunnel.refreshed_at for tunnel in tunnels.values()]
    return {
        "total": len(rows),
        "online": online,
        "offline": len(rows) - online,
        "last_seen_at": max(moments, default=None),
    }


# --- Writes (the relay nodes') ----------------------------------------------------


def devices_mark_seen(*, device_ids: Sequence[str], at: datetime) -> int:
    """``last_seen_at = at`` for these live devices, in UPDATEs of up to 1,000 rows."""
    updated = 0
    for start in range(0, len(device_ids), _CHUNK):
        chunk = device_ids[start : start + _CHUNK]
        updated += Device.objects.live().filter(pk__in=chunk).update(last_seen_at=at)
    return updated


def devices_mark_last_alive(*, device_ids: Sequence[str], at: datetime) -> int:
    """``last_seen_at = at`` where it is older (a dead node's devices: its last renewal)."""
    updated = 0
    older = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=at)
    for start in range(0, len(device_ids), _CHUNK):
        chunk = device_ids[start : start + _CHUNK]
        updated += Device.objects.live().filter(older, pk__in=chunk).update(last_seen_at=at)
    return updated


def device_tokens_usable(*, token_hashes: Iterable[str]) -> dict[str, str]:
    """Which of these tokens are usable now, and their device ids: one query per
    1,000 tokens (the relay's handshakes in batches, and its periodic re-check)."""
    hashes = list(token_hashes)
    found: dict[str, str] = {}
    for start in range(0, len(hashes), _CHUNK):
        found |= {
            token_hash: str(device_id)
            for token_hash, device_id in DeviceToken.objects.usable()
            .filter(pk__in=hashes[start : start + _CHUNK])
            .values_list("pk", "device_id")
        }
    return found


_HEX = frozenset("0123456789abcdef")


def device_tokens_unusable(*, token_hashes: Collection[str]) -> set[str]:
    """Which of these tokens are no longer usable (the relay's re-check of its tunnels,
    every 2 s): one query, answering only those, usually none.

    On PostgreSQL the hashes go as one array parameter, not thousands of
    placeholders (a quarter of the CPU at 10,000 tunnels), and the database returns
    the difference; elsewhere, ``device_tokens_usable``'s batches.
    """
    hashes = [h for h in token_hashes if len(h) == 64 and _HEX.issuperset(h)]
    if not hashes:
        return set()
    if connection.vendor != "postgresql":
        return set(hashes) - set(device_tokens_usable(token_hashes=hashes))
    array = "{" + ",".join(hashes) + "}"  # hex digests: nothing to quote
    usable = (
        DeviceToken.objects.usable()
        .filter(pk__in=RawSQL("SELECT unnest(%s::text[])", [array]))
        .values("pk")
    )
    # The ORM's own SQL for usable(), its values still parameters: nothing user-given.
    sql, params = usable.query.sql_with_params()
    query = f"SELECT h FROM unnest(%s::text[]) AS h EXCEPT ({sql})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [array, *params])
        return {row[0] for row in cursor.fetchall()}
