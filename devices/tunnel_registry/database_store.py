"""The tunnel registry in the database (without Redis).

``devices.TunnelNode``: one row per node process, its lease (``expires_at``),
renewed with one UPDATE per node. ``devices.TunnelRegistration``: one row per
device, naming its node and connection, valid while the node's lease is. Every
compare-and-act is one conditional statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from devices.tunnel_registry import DeadNode, NodeLease, TunnelRegistration

_CHUNK = 500


def _models():
    from devices.models import TunnelNode
    from devices.models import TunnelRegistration as Row

    return TunnelNode, Row


class DatabaseStore:
    # The lease ------------------------------------------------------------------

    def lease_acquire(self, lease: NodeLease, ttl: int, now: datetime) -> None:
        node, _row = _models()
        node.objects.update_or_create(
            node_id=lease.node_id,
            defaults={
                "node_url": lease.node_url,
                "renewed_at": now,
                "expires_at": now + timedelta(seconds=ttl),
            },
        )

    def lease_renew(self, lease: NodeLease, ttl: int, now: datetime) -> bool:
        node, _row = _models()
        # One UPDATE; a lease already past its expiry but not yet swept comes back
        # with its entries (they were only invisible meanwhile).
        return bool(
            node.objects.filter(node_id=lease.node_id).update(
                renewed_at=now, expires_at=now + timedelta(seconds=ttl)
            )
        )

    def lease_release(self, lease: NodeLease) -> list[str]:
        node, row = _models()
        with transaction.atomic():
            device_ids = [
                str(pk)
                for pk in row.objects.filter(node_id=lease.node_id).values_list(
                    "device_id", flat=True
                )
            ]
            node.objects.filter(node_id=lease.node_id).delete()  # its entries cascade
        return device_ids

    # Entries --------------------------------------------------------------------

    def register_many(self, lease: NodeLease, connections, now: datetime) -> None:
        _node, row = _models()
        for start in range(0, len(connections), _CHUNK):
            # One INSERT ... ON CONFLICT DO UPDATE per chunk: replaces any other entry.
            row.objects.bulk_create(
                [
                    row(
                        device_id=device_id,
                        node_id=lease.node_id,
                        connection_id=connection_id,
                        connected_at=now,
                    )
                    for device_id, connection_id in connections[start : start + _CHUNK]
                ],
                update_conflicts=True,
                unique_fields=["device"],
                update_fields=["node", "connection_id", "connected_at"],
            )

    def reclaim_many(self, lease: NodeLease, connections, now: datetime) -> list[str]:
        _node, row = _models()
        lost = []
        for device_id, connection_id in connections:
            if row.objects.filter(device_id=device_id, connection_id=connection_id).update(
                node_id=lease.node_id
            ):
                continue
            try:
                with transaction.atomic():
                    row.objects.create(
                        device_id=device_id,
                        node_id=lease.node_id,
                        connection_id=connection_id,
                        connected_at=now,
                    )
            except IntegrityError:
                lost.append(device_id)  # another connection holds it (or the device is gone)
        return lost

    def unregister_many(self, lease: NodeLease | None, connections) -> None:
        _node, row = _models()
        # A connection id names one connection: deleting by it is compare-and-delete.
        ids = [connection_id for _device_id, connection_id in connections]
        for start in range(0, len(ids), _CHUNK):
            row.objects.filter(connection_id__in=ids[start : start + _CHUNK]).delete()

    def lookup_many(self, device_ids: list[str], now: datetime) -> dict[str, TunnelRegistration]:
        _node, row = _models()
        rows = row.objects.filter(
            device_id__in=device_ids, node__expires_at__gt=now
        ).select_related("node")
        return {
            str(entry.device_id): TunnelRegistration(
                device_id=str(entry.device_id),
                node_url=entry.node.node_url,
                connection_id=entry.connection_id,
                connected_at=entry.connected_at,
                refreshed_at=max(entry.connected_at, entry.node.renewed_at),
                node_id=entry.node_id,
            )
            for entry in rows
        }

    # Dead nodes -------------------------------------------------------------------

    def sweep_dead_nodes(self, now: datetime) -> list[DeadNode]:
        node, row = _models()
        dead = []
        for node_id in node.objects.filter(expires_at__lte=now).values_list("node_id", flat=True):
            with transaction.atomic():
                # Locked, and still expired: a renewal racing this sweep wins or waits.
                lease = (
                    node.objects.select_for_update(skip_locked=True)
                    .filter(node_id=node_id, expires_at__lte=now)
                    .first()
                )
                if lease is None:
                    continue
                device_ids = [
                    str(pk)
                    for pk in row.objects.filter(node_id=node_id).values_list(
                        "device_id", flat=True
                    )
                ]
                lease.delete()  # its entries cascade
            dead.append(
                DeadNode(node_id=node_id, last_renewed_at=lease.renewed_at, device_ids=device_ids)
            )
        return dead
