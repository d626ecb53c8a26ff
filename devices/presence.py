"""Whether a device is online: one answer for the list, its page and the API.

Two signs of life disagree for up to the online threshold (90 s) after an agent
stops: its tunnel closes at once (the relay drops the registration), its last
heartbeat stays recent. The tunnel is the truth whenever the registry answers: a
device is online while its tunnel is open, offline otherwise, whatever its last
heartbeat says. Only when the registry cannot answer do heartbeats decide (and
the answer says so, ``known_from``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from devices import tunnel_registry
from devices.choices import ConnectionStatus
from devices.models import Device
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
    """The devices' live tunnels by device id; None when the registry cannot answer."""
    device_ids = [str(device.pk) for device in devices]
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
        status = device.connection_status()
        return Presence(status, HEARTBEAT, None, device.agent_status)
    registration = registrations.get(str(device.pk))
    online = registration is not None and device.deleted_at is None
    status = ConnectionStatus.ONLINE if online else ConnectionStatus.OFFLINE
    return Presence(status.value, TUNNEL, registration if online else None, device.agent_status)


def presences(*, devices: Iterable[Device]) -> dict[str, Presence]:
    """Each device's presence, by device id, from one registry lookup."""
    devices = list(devices)
    registrations = registrations_or_none(devices=devices)
    return {str(device.pk): presence_of(device, registrations) for device in devices}


def user_registrations(*, user) -> dict[str, TunnelRegistration] | None:
    """The live tunnels of all the user's devices (for their count), or None."""
    from devices.selectors import device_list_for_user

    return registrations_or_none(devices=device_list_for_user(user=user).only("pk"))
