"""Reads about groups and pins. Ownership is enforced here: another user's group is
indistinguishable from an unknown one; unpaired devices are in no group."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from deployments.group_models import DeviceGroup, DevicePin
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
