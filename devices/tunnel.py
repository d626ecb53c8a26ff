"""Reaching a user's device through its tunnel: who may, where it is, what it says.

The registry (``devices.tunnel_registry``, written by the relay nodes) names the
node holding each device's live tunnel; ``devices.relay_client`` talks to that
node. Ownership comes first: another user's device is "not found", never "offline".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Max

from devices import relay_client, relay_slots, selectors, tunnel_registry
from devices.errors import DeviceOffline, TunnelUnavailable
from devices.models import Device
from devices.tunnel_registry import TunnelRegistration
from visiona.errors import AppError
from visiona.models import User

logger = logging.getLogger(__name__)

# The health answer waits this long for the registry (the original's 2 s).
HEALTH_REGISTRY_TIMEOUT = 2.0
# Pages wait this long for a device's own report, so a slow device never holds them.
PAGE_REPORT_TIMEOUT = 3.0
DEPS_PATH = "api/system/deps"

# Few threads: the registry answers in milliseconds; a hung store only ever
# holds these, while each health answer still returns after its timeout.
_registry_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tunnel-registry")


@dataclass(frozen=True)
class RelayRoute:
    """Where one authorized relayed exchange goes, and the cap's slot it holds."""

    device: Device
    registration: TunnelRegistration
    slot: relay_slots.Slot

    @property
    def device_id(self) -> str:
        return str(self.device.pk)


def device_relay_route(*, user: User, device_id: uuid.UUID | str) -> RelayRoute:
    """The user's device ``device_id``, its node, and a slot under the caps.

    Raises ``DeviceNotFound`` (another user's, or none), ``DeviceOffline`` (at
    once), ``TunnelUnavailable`` or ``RelayTooManyExchanges`` (429, at once).
    The caller releases the slot (``relay_slots.keeper``) or hands it on.
    """
    device = selectors.device_get_for_user(user=user, device_id=device_id)
    registration = _registration_or_offline(device)
    slot = relay_slots.slot_acquire(user_id=user.pk, device_id=str(device.pk))
    return RelayRoute(device=device, registration=registration, slot=slot)


def system_deps_route(*, user: User, device_id: uuid.UUID | str | None) -> RelayRoute:
    """``device_relay_route`` for ``GET /api/system/deps``: the device ``device_id``,
    or the user's most recently connected one."""
    device, registration = connected_device_for_user(user=user, device_id=device_id)
    slot = relay_slots.slot_acquire(user_id=user.pk, device_id=str(device.pk))
    return RelayRoute(device=device, registration=registration, slot=slot)


def device_relay(
    *,
    route: RelayRoute,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: relay_client.ReadableStream | None,
    content_length: int | None,
    request_id: str,
) -> relay_client.RelayedAnswer:
    """One request to the device's local API, streamed through this process.

    The slot is renewed while the answer streams and freed when it is closed;
    on any failure before that, at once.
    """
    try:
        answer = relay_client.relay(
            node_url=route.registration.node_url,
            device_id=route.device_id,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            content_length=content_length,
            request_id=request_id,
        )
    except BaseException:
        relay_slots.keeper.release(route.slot)
        raise
    relay_slots.keeper.hold(route.slot)
    answer.on_close(lambda: relay_slots.keeper.release(route.slot))
    return answer


def connected_device_for_user(
    *, user: User, device_id: uuid.UUID | str | None = None
) -> tuple[Device, TunnelRegistration]:
    """The device ``device_id`` if given (its owner's only), else the user's most
    recently connected one. Raises ``DeviceNotFound`` or ``DeviceOffline``."""
    if device_id is not None:
        device = selectors.device_get_for_user(user=user, device_id=device_id)
        return device, _registration_or_offline(device)
    devices = {str(device.pk): device for device in selectors.device_list_for_user(user=user)}
    registrations = _lookup_many_or_unavailable(list(devices))
    if not registrations:
        raise DeviceOffline()
    newest = max(registrations.values(), key=lambda registration: registration.connected_at)
    return devices[newest.device_id], newest


def _registration_or_offline(device: Device) -> TunnelRegistration:
    registration = _lookup_many_or_unavailable([str(device.pk)]).get(str(device.pk))
    if registration is None:
        raise DeviceOffline()  # at once: nothing to wait for
    return registration


def _lookup_many_or_unavailable(device_ids: list[str]) -> dict[str, TunnelRegistration]:
    if not device_ids:
        return {}
    try:
        return tunnel_registry.lookup_many(device_ids)
    except Exception as exc:
        logger.warning("tunnel registry unavailable", exc_info=True)
        raise TunnelUnavailable() from exc


# --- The health answer -------------------------------------------------------------


def tunnel_summary(
    *, user: User, registrations: Mapping[str, TunnelRegistration] | None
) -> dict[str, Any]:
    """``tunnel_connected``, ``agent_last_seen_at``, ``agent_session_count`` for the
    user's devices, from ``registrations`` (``bounded_registrations``); None (the
    registry failed) counts as not connected."""
    devices = selectors.device_list_for_user(user=user)
    last_heartbeat = devices.aggregate(latest=Max("last_seen_at"))["latest"]
    registrations = registrations or {}
    return {
        "tunnel_connected": bool(registrations),
        # The agent's latest sign of life: a heartbeat, or its node refreshing the tunnel.
        "agent_last_seen_at": _latest(
            [last_heartbeat, *(r.refreshed_at for r in registrations.values())]
        ),
        "agent_session_count": len(registrations),
    }


def bounded_registrations(*, user: User) -> dict[str, TunnelRegistration] | None:
    """The live tunnels of the user's devices, given ``HEALTH_REGISTRY_TIMEOUT`` at
    most; None (and a warning logged) when the registry is slower or fails."""
    device_ids = [
        str(pk) for pk in selectors.device_list_for_user(user=user).values_list("pk", flat=True)
    ]
    if not device_ids:
        return {}
    future = _registry_pool.submit(_lookup_in_worker, device_ids)
    try:
        return future.result(timeout=HEALTH_REGISTRY_TIMEOUT)
    except FutureTimeout:
        logger.warning("tunnel registry too slow", extra={"timeout": HEALTH_REGISTRY_TIMEOUT})
    except Exception:
        logger.warning("tunnel registry unavailable", exc_info=True)
    return None


def _lookup_in_worker(device_ids: list[str]) -> dict[str, TunnelRegistration]:
    try:
        return tunnel_registry.lookup_many(device_ids)
    finally:
        # The database registry opened this thread's own connection: do not leave it.
        connections.close_all()


# --- What a connected device reports (pages) ---------------------------------------


@dataclass(frozen=True)
class DeviceReport:
    """What a device's local API says about itself (``GET /api/system/deps``), for a page.

    ``state``: "ok", "offline", "unreachable" (no good answer in time) or "unknown"
    (an answer in a shape this page does not know).
    """

    state: str
    demo: bool = False
    versions: list[tuple[str, str]] = field(default_factory=list)
    dongles: list[dict[str, str]] = field(default_factory=list)


_DONGLE_FIELDS = ("chip", "serial", "firmware_version", "usb_port", "status")


@dataclass(frozen=True)
class DeviceJson:
    """What a device's local API answered to a GET, for the pages: ``state`` "ok" (with
    ``body``: the JSON, or None when the answer was not a 200 or not JSON within the
    limit), "offline" (no tunnel) or "unreachable" (no answer in time, or refused)."""

    state: str
    body: object = None


def read_device_json(
    *, device: Device, registration: TunnelRegistration | None, path: str, limit: int
) -> DeviceJson:
    """GET ``path`` of the device's local API through its tunnel, waiting
    ``PAGE_REPORT_TIMEOUT`` at most, and read at most ``limit`` bytes of JSON.
    The JSON is untrusted: text that is not valid Unicode counts as not JSON."""
    if registration is None:
        return DeviceJson("offline")
    try:
        answer = relay_client.relay(
            node_url=registration.node_url,
            device_id=str(device.pk),
            method="GET",
            path=path,
            headers={"Accept": "application/json"},
            request_id=uuid.uuid4().hex,
            read_timeout=PAGE_REPORT_TIMEOUT,
        )
        body = answer.read_json(limit=limit) if answer.status == 200 else None
    except DeviceOffline:
        return DeviceJson("offline")
    except (AppError, relay_client.RelayAnswerInterrupted):
        # Unreachable, too slow, or a path refused: the page says so, nothing more.
        return DeviceJson("unreachable")
    return DeviceJson("ok", body)


def device_report(*, device: Device, registration: TunnelRegistration | None) -> DeviceReport:
    """The device's dependencies through its tunnel, waiting ``PAGE_REPORT_TIMEOUT`` at most."""
    answer = read_device_json(
        device=device, registration=registration, path=DEPS_PATH, limit=256 * 1024
    )
    if answer.state != "ok":
        return DeviceReport(state=answer.state)
    return _report_from_json(answer.body)


def device_reports(
    *, devices: Iterable[Device], registrations: Mapping[str, TunnelRegistration]
) -> dict[str, DeviceReport]:
    """``device_report`` for several devices at once, all within ``PAGE_REPORT_TIMEOUT``."""
    connected = [device for device in devices if str(device.pk) in registrations]
    reports = {str(device.pk): DeviceReport(state="offline") for device in devices}
    if not connected:
        return reports
    with ThreadPoolExecutor(max_workers=min(8, len(connected))) as pool:
        futures = {
            str(device.pk): pool.submit(
                device_report, device=device, registration=registrations[str(device.pk)]
            )
            for device in connected
        }
        for device_id, future in futures.items():
            try:
                # Each call is bounded by its own timeouts; this only guards the sum.
                reports[device_id] = future.result(timeout=PAGE_REPORT_TIMEOUT + 1)
            except FutureTimeout:
                reports[device_id] = DeviceReport(state="unreachable")
    return reports


def _report_from_json(body: object) -> DeviceReport:
    if not isinstance(body, dict):
        return DeviceReport(state="unknown")
    versions = []
    for name, value in body.items():
        if name in {"dongles", "demo"}:
            continue
        versions += _versions(name, value)
    dongles = [
        {name: _text(dongle.get(name)) for name in _DONGLE_FIELDS}
        for dongle in body.get("dongles") or []
        if isinstance(dongle, dict)
    ]
    return DeviceReport(
        state="ok", demo=body.get("demo") is True, versions=versions[:20], dongles=dongles[:16]
    )


def _versions(name: str, value: object) -> list[tuple[str, str]]:
    # {"driver": {"name": ..., "version": "1.3.0"}} -> ("driver", "1.3.0");
    # {"toolchain": {"kneron_plus": "3.1.2"}} -> ("toolchain kneron_plus", "3.1.2").
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [(name[:64], _text(value))]
    if not isinstance(value, dict):
        return []
    if "version" in value:
        return [(name[:64], _text(value["version"]))]
    return [
        (f"{name} {key}"[:64], _text(item))
        for key, item in value.items()
        if isinstance(item, str | int | float) and not isinstance(item, bool)
    ]


def _text(value: object) -> str:
    return str(value)[:128] if value is not None else ""


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((moment for moment in moments if moment), default=None)
