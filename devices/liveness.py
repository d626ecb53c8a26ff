"""What liveness writes (docs/tunnel.md, "Liveness"): the relay nodes' batched
``last_seen_at`` writes and token checks. What "online" means, and every read of
it, is devices/presence.py's: live state comes from the registry, never from here.

The database keeps coarse history only: ``last_seen_at`` is written by the
relay nodes when a tunnel opens or closes, every ``RELAY_LAST_SEEN_WRITE_SECONDS``
while it stays open, and when a dead node's devices are swept (then the node's
last renewal), each as one UPDATE for a batch of devices.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from devices.models import Device, DeviceToken

_CHUNK = 1000


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
