"""Where apps above devices add to its features (``devices`` imports none of them).

Like ``visiona/registry.py`` one level up: an app that builds on devices
(``deployments``) registers here from its ``AppConfig.ready()``:

- ``register_heartbeat_part``: fields of the agent's heartbeat answer
  (``POST /api/agent/heartbeat``), with their serializer fields for the OpenAPI
  document; ``values(device=...)`` answers them for the device that sent it;
- ``register_unpair_step``: work done when a device is unpaired, inside the
  unpair's own transaction (after its tokens are revoked, before it is marked
  unpaired); ``step(device=...)`` raising rolls the whole unpair back;
- ``register_device_page_section``: a section of the device's page, a template
  rendered after the installed models, in ``order``; ``context(request=...,
  device=...)`` adds its variables to the page's context (a name the page already
  has is refused: sections do not overwrite the page or each other).
- ``register_device_list_marks``: marks beside a device's name in the device list
  (``DeviceMark``: a word, its status style, a detail); ``marks(devices=...)`` answers
  for the whole page at once;
- ``register_device_api_part``: fields of a device in the API's list and detail
  (``GET /api/devices/``, ``/api/devices/<id>``), with their serializer fields for the
  OpenAPI document; ``values(devices=...)`` answers them for a whole list at once;
- ``register_work_finder``: which devices have work waiting, and the agent's path
  that wakes it (``POST /_visiona/...``): when tunnels open, their relay node asks
  ``devices_with_work`` for all the devices that just connected at once (one query
  per finder) and nudges those through their new tunnel, so work made while a
  device was away reaches it without the agent asking the web tier.

Registering again under the same name replaces the entry (``ready()`` may run
more than once in tests). Not to be confused with ``tunnel_registry.py``, which
records where a device's tunnel is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework import serializers

    from devices.models import Device


@dataclass(frozen=True)
class HeartbeatPart:
    """Some fields of the heartbeat answer. ``fields()`` builds fresh serializer
    fields (DRF binds a field to one serializer) describing what ``values`` answers."""

    name: str
    fields: Callable[[], dict[str, serializers.Field]]
    values: Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class DevicePageSection:
    name: str
    template: str
    context: Callable[..., dict[str, Any]]
    order: int


@dataclass(frozen=True)
class DeviceMark:
    """A mark beside a device's name in the list: "Pinned", with its reason."""

    label: str
    status: str  # the status-<status> style
    detail: str = ""


@dataclass(frozen=True)
class DeviceApiPart:
    """Some fields of a device as the API's list and detail show it. ``fields()`` builds
    fresh serializer fields describing what ``values`` answers for each device."""

    name: str
    fields: Callable[[], dict[str, serializers.Field]]
    values: Callable[..., dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class WorkFinder:
    name: str
    find: Callable[[Sequence[str]], set[str]]  # device ids -> those with work waiting
    path: str  # what the relay POSTs through the tunnel, e.g. "/_visiona/deployments/sync"


_heartbeat_parts: dict[str, HeartbeatPart] = {}
_unpair_steps: dict[str, Callable[..., Any]] = {}
_device_page_sections: dict[str, DevicePageSection] = {}
_work_finders: dict[str, WorkFinder] = {}
_device_list_marks: dict[str, Callable[..., dict[str, list[DeviceMark]]]] = {}
_device_api_parts: dict[str, DeviceApiPart] = {}


def register_heartbeat_part(
    name: str,
    *,
    fields: Callable[[], dict[str, serializers.Field]],
    values: Callable[..., dict[str, Any]],
) -> None:
    """``values(*, device: Device) -> dict``: the fields ``fields()`` describes."""
    _heartbeat_parts[name] = HeartbeatPart(name=name, fields=fields, values=values)


def heartbeat_parts() -> list[HeartbeatPart]:
    return list(_heartbeat_parts.values())


def register_unpair_step(name: str, step: Callable[..., Any]) -> None:
    """``step(*, device: Device)``, called inside the unpair's transaction."""
    _unpair_steps[name] = step


def unpair_steps() -> list[Callable[..., Any]]:
    return list(_unpair_steps.values())


def register_device_page_section(
    name: str, *, template: str, context: Callable[..., dict[str, Any]], order: int = 100
) -> None:
    """``context(*, request: HttpRequest, device: Device) -> dict``: the template's variables."""
    _device_page_sections[name] = DevicePageSection(
        name=name, template=template, context=context, order=order
    )


def device_page_sections() -> list[DevicePageSection]:
    return sorted(_device_page_sections.values(), key=lambda section: section.order)


def device_page_context(
    *, request: HttpRequest, device: Device, page: dict[str, Any]
) -> dict[str, Any]:
    """The page's context with each section's variables and ``device_sections``, the
    sections' templates in order."""
    templates: list[str] = []
    context = {**page, "device_sections": templates}
    for section in device_page_sections():
        added = section.context(request=request, device=device)
        clash = sorted(context.keys() & added.keys())
        if clash:
            raise ImproperlyConfigured(
                f"device page section {section.name!r} would replace {clash}"
            )
        context.update(added)
        templates.append(section.template)
    return context


def register_device_list_marks(
    name: str, marks: Callable[..., dict[str, list[DeviceMark]]]
) -> None:
    """``marks(*, devices: Sequence[Device]) -> {device id: [DeviceMark]}``, one query
    or a few for all of them."""
    _device_list_marks[name] = marks


def device_list_marks(*, devices: Sequence[Device]) -> dict[str, list[DeviceMark]]:
    """Each device's marks from every app, by device id (an empty list for none)."""
    found: dict[str, list[DeviceMark]] = {str(device.pk): [] for device in devices}
    for marks in _device_list_marks.values():
        for device_id, device_marks in marks(devices=devices).items():
            found.setdefault(str(device_id), []).extend(device_marks)
    return found


def register_device_api_part(
    name: str,
    *,
    fields: Callable[[], dict[str, serializers.Field]],
    values: Callable[..., dict[str, dict[str, Any]]],
) -> None:
    """``values(*, devices: Sequence[Device]) -> {device id: {field: value}}``, one query
    or a few for all of them; every device gets every field ``fields()`` describes."""
    _device_api_parts[name] = DeviceApiPart(name=name, fields=fields, values=values)


def device_api_parts() -> list[DeviceApiPart]:
    return list(_device_api_parts.values())


def device_api_values(*, devices: Sequence[Device]) -> dict[str, dict[str, Any]]:
    """Each device's fields from every app, by device id (empty when none registered)."""
    found: dict[str, dict[str, Any]] = {str(device.pk): {} for device in devices}
    for part in _device_api_parts.values():
        for device_id, values in part.values(devices=devices).items():
            found.setdefault(str(device_id), {}).update(values)
    return found


def register_work_finder(
    name: str, *, find: Callable[[Sequence[str]], set[str]], path: str
) -> None:
    """``find(device_ids) -> set[str]``: those of the devices with work waiting, one
    query for all of them; ``path``: the agent's own path that wakes its worker."""
    _work_finders[name] = WorkFinder(name=name, find=find, path=path)


def devices_with_work(device_ids: Sequence[str]) -> dict[str, list[str]]:
    """device id -> the paths to nudge it with, for those with work waiting."""
    nudges: dict[str, list[str]] = {}
    for finder in _work_finders.values():
        for device_id in finder.find(device_ids):
            nudges.setdefault(str(device_id), []).append(finder.path)
    return nudges
