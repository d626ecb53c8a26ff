"""Whether a device is online: one answer for the list, its page, the deploy page, the
API and the health summary (docs/tunnel.md, "What online means").

Two signs of life disagree for up to the online threshold (90 s) after an agent
stops: its tunnel closes at once (its relay node drops the registration), its last
heartbeat stays recent. The tunnel is the truth whenever the registry answers: a
device is online while its relay node holds its tunnel, offline otherwise, whatever
its last heartbeat says (an agent that runs but cannot open its tunnel reads
offline; its last heartbeat still shows as "last seen"). Only when the registry
cannot answer do heartbeats decide (``Device.heartbeat_is_recent``), and the answer
says so (``known_from``).

Live state is read from the registry (devices.tunnel_registry), never written to
the database; ``last_seen_at`` reads the later of the durable column (written
coarsely: devices.liveness) and the registry's last word for the tunnel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from devices import tunnel_registry
from devices.choices import ConnectionStatus
from devices.models import Device, online_since
from devices.tunnel_registry import TunnelRegistration

logger = logging.getLogger(__name__)

TUNNEL = "tunnel"
HEARTBEAT = "heartbeat"

# What the agent reports in its heartbeats (visiona_client.agent), in the reader's words.
AGENT_STATUS_LABELS = {
    "ready": _("ready"),
    "local-api-down": _("its local device API does not answer"),
}


@dataclass(frozen=True)
class Presence:
    status: str  # a ConnectionStatus value
    known_from: str  # TUNNEL, or HEARTBEAT when the registry could not answer
    tunnel: TunnelRegistration | None
    agent_status: str  # the last heartbeat's, shown only while online
    last_seen_at: datetime | None  # the durable value, or the registry's when later

    @property
    def online(self) -> bool:
        return self.status == ConnectionStatus.ONLINE

    @property
    def label(self) -> str:
        return str(ConnectionStatus(self.status).label)

    @property
    def agent_status_label(self) -> str:
        """The agent's own status beside "Online"; nothing when offline (stale)."""
        if not self.online or not self.agent_status:
            return ""
        return str(AGENT_STATUS_LABELS.get(self.agent_status, self.agent_status))


def registrations_or_none(*, devices: Iterable[Device]) -> dict[str, TunnelRegistration] | None:
    """The devices' live tunnels by device id; None when the registry cannot answer
    (logged): an outage breaks no page, the heartbeats answer instead."""
    return _lookup_or_none([str(device.pk) for device in devices])


def _lookup_or_none(device_ids: list[str]) -> dict[str, TunnelRegistration] | None:
    if not device_ids:
        return {}
    try:
        return tunnel_registry.lookup_many(device_ids)
    except Exception:
        logger.warning("tunnel registry unavailable", exc_info=True)
        return None


def presence_of(device: Device, registrations: Mapping[str, TunnelRegistration] | None) -> Presence:
    """``registrations``: the registry's answer for this device (among others), or
    None when it had none to give."""
    if registrations is None:
        online = device.deleted_at is None and device.heartbeat_is_recent()
        return Presence(_status(online), HEARTBEAT, None, device.agent_status, device.last_seen_at)
    registration = None if device.deleted_at else registrations.get(str(device.pk))
    last_seen = device.last_seen_at
    if registration is not None and (last_seen is None or registration.refreshed_at > last_seen):
        last_seen = registration.refreshed_at
    return Presence(
        _status(registration is not None), TUNNEL, registration, device.agent_status, last_seen
    )


def _status(online: bool) -> str:
    return (ConnectionStatus.ONLINE if online else ConnectionStatus.OFFLINE).value


def presences(*, devices: Iterable[Device]) -> dict[str, Presence]:
    """Each device's presence, by device id, from one registry lookup."""
    devices = list(devices)
    registrations = registrations_or_none(devices=devices)
    return {str(device.pk): presence_of(device, registrations) for device in devices}


def with_presence(devices: Iterable[Device]) -> list[Device]:
    """The devices, each knowing its ``presence`` (and its ``last_seen_at`` the live
    value, in memory only), from one registry lookup: for lists that show devices
    one by one (a group, a rollout)."""
    devices = list(devices)
    registrations = registrations_or_none(devices=devices)
    for device in devices:
        device.presence = presence_of(device, registrations)  # type: ignore[attr-defined]
        device.last_seen_at = device.presence.last_seen_at  # type: ignore[attr-defined]
    return devices


def user_overview(*, user) -> tuple[dict[str, TunnelRegistration] | None, dict[str, Any]]:
    """The live tunnels of all the user's devices (or None) and their ``summary``, from
    one query and one registry lookup: the devices list's rows and its count."""
    from devices.selectors import device_list_for_user

    rows = _rows(device_list_for_user(user=user))
    registrations = _lookup_or_none([str(pk) for pk, _seen, _beat in rows])
    return registrations, _summary(rows, registrations)


Row = tuple[Any, datetime | None, datetime | None]  # pk, last_seen_at, last_heartbeat_at


def _rows(devices: QuerySet[Device]) -> list[Row]:
    return list(devices.values_list("pk", "last_seen_at", "last_heartbeat_at"))


def summary(
    *, devices: QuerySet[Device], registrations: Mapping[str, TunnelRegistration] | None
) -> dict[str, Any]:
    """``total``, ``online``, ``offline`` and the latest ``last_seen_at`` of a queryset
    of live devices, as ``presence_of`` says it for each (one query; ``registrations``
    the registry's answer for them, or None when it had none)."""
    return _summary(_rows(devices), registrations)


def _summary(
    rows: list[Row], registrations: Mapping[str, TunnelRegistration] | None
) -> dict[str, Any]:
    moments = [seen for _pk, seen, _beat in rows if seen]
    if registrations is None:
        since = online_since()
        online = sum(1 for _pk, _seen, beat in rows if beat is not None and beat >= since)
    else:
        tunnels = [registrations[str(pk)] for pk, _seen, _beat in rows if str(pk) in registrations]
        online = len(tunnels)
        moments += [tunnel.refreshed_at for tunnel in tunnels]
    return {
        "total": len(rows),
        "online": online,
        "offline": len(rows) - online,
        "last_seen_at": max(moments, default=None),
    }
