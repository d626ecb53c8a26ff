"""Reads about groups and pins. Ownership is enforced here: another user's group is
indistinguishable from an unknown one; unpaired devices are in no group."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from deployments.group_models import DeviceGroup, DevicePin, GroupPin
from deployments.rollout_errors import GroupNotFound
from devices.models import Device
from visiona.models import User


def group_list_for_user(*, user: User | AnonymousUser) -> QuerySet[DeviceGroup]:
    """The user's groups by name, each with ``device_count`` (paired devices only)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return DeviceGroup.objects.none()
    live = Q(devices__deleted_at__isnull=True)
    return (
        DeviceGroup.objects.filter(owner=user)
        .select_related("pin")
        .annotate(device_count=Count("devices", filter=live))
        .order_by(Lower("name"), "pk")
    )


def group_get_for_user(*, user: User | AnonymousUser, group_id: uuid.UUID | str) -> DeviceGroup:
    try:
        return group_list_for_user(user=user).get(pk=group_id)
    except (DeviceGroup.DoesNotExist, ValueError, TypeError, ValidationError):
        raise GroupNotFound() from None


def group_devices(*, group: DeviceGroup) -> QuerySet[Device]:
    """The group's paired devices, by name."""
    return group.devices.filter(deleted_at__isnull=True).order_by(Lower("name"), "pk")


def group_chips(*, groups: Sequence[DeviceGroup]) -> dict[str, list[str]]:
    """The chips of each group's paired devices, by group id (one query for all)."""
    chips: dict[str, set[str]] = {str(group.pk): set() for group in groups}
    rows = DeviceGroup.devices.through.objects.filter(
        devicegroup__in=groups, device__deleted_at__isnull=True
    ).values_list("devicegroup_id", "device__chip")
    for group_id, chip in rows:
        chips[str(group_id)].add(chip)
    return {group_id: sorted(found) for group_id, found in chips.items()}


def groups_of_device(*, device: Device) -> QuerySet[DeviceGroup]:
    return DeviceGroup.objects.filter(devices=device, owner_id=device.owner_id).order_by(
        Lower("name"), "pk"
    )


def pins_for_devices(*, devices: Sequence[Device]) -> dict[str, DevicePin]:
    """The pins of these devices, by device id."""
    pins = DevicePin.objects.filter(device__in=devices)
    return {str(pin.device_id): pin for pin in pins}


def pin_of_device(*, device: Device) -> DevicePin | None:
    return DevicePin.objects.filter(device=device).first()


def pin_of_group(*, group: DeviceGroup) -> GroupPin | None:
    return GroupPin.objects.filter(group=group).first()


def rollout_pins(*, devices: Sequence[Device]) -> dict[str, tuple[str, str]]:
    """Why a rollout leaves each pinned device of these out, by device id: its own pin
    (``pinned``, with its reason), else the first (by name) of its owner's pinned groups
    it is in (``group_pinned``, with the group's name and the pin's reason on two lines;
    neither holds a line break)."""
    found: dict[str, tuple[str, str]] = {}
    memberships = DeviceGroup.devices.through.objects
    grouped = (
        memberships.filter(device__in=devices, devicegroup__pin__isnull=False)
        .order_by(Lower("devicegroup__name"), "devicegroup_id")
        .values_list("device_id", "devicegroup__name", "devicegroup__pin__reason")
    )
    for device_id, name, reason in grouped:
        found.setdefault(str(device_id), ("group_pinned", f"{name}\n{reason}"))
    for pin in DevicePin.objects.filter(device__in=devices):
        found[str(pin.device_id)] = ("pinned", pin.reason)
    return found
