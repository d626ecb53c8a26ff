"""Reads about devices. Ownership is enforced here: another user's device, code
or token is indistinguishable from an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from devices import presence
from devices.errors import DeviceNotFound, DeviceTokenNotFound, PairingCodeNotFound
from devices.models import Device, DeviceToken, PairingCode
from devices.tunnel_registry import TunnelRegistration
from visiona.compiled_query import CompiledLookup
from visiona.models import User


def device_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Device]:
    if not isinstance(user, User) or not user.is_authenticated:
        return Device.objects.none()
    return Device.objects.live().filter(owner=user)


# Every relayed request asks this: compiled once per process (visiona/compiled_query.py).
_OWNED_DEVICE = CompiledLookup(
    Device,
    lambda owner_id, pk: Device.objects.live().filter(owner_id=owner_id, pk=pk),
    owner_id=-1,
    pk=uuid.UUID(int=0),
)


def device_get_for_user(*, user: User | AnonymousUser, device_id: uuid.UUID | str) -> Device:
    if not isinstance(user, User) or not user.is_authenticated:
        raise DeviceNotFound()
    try:
        device = _OWNED_DEVICE.first(owner_id=user.pk, pk=device_id)
    except (ValueError, ValidationError):
        device = None  # not a device id: no such device
    if device is None:
        raise DeviceNotFound()
    return device


def device_tokens_for_device(*, device: Device) -> QuerySet[DeviceToken]:
    return device.tokens.order_by("-created_at")


def device_token_get_for_device(*, device: Device, token_id: uuid.UUID | str) -> DeviceToken:
    try:
        return (
            device_tokens_for_device(device=device).select_related("device").get(public_id=token_id)
        )
    except (DeviceToken.DoesNotExist, ValueError):
        raise DeviceTokenNotFound() from None


def pairing_code_get_for_user(
    *, user: User | AnonymousUser, pairing_code_id: uuid.UUID | str
) -> PairingCode:
    if not isinstance(user, User) or not user.is_authenticated:
        raise PairingCodeNotFound()
    try:
        return PairingCode.objects.select_related("device").get(
            owner=user, public_id=pairing_code_id
        )
    except (PairingCode.DoesNotExist, ValueError):
        raise PairingCodeNotFound() from None


def pairing_codes_live_for_user(*, user: User) -> QuerySet[PairingCode]:
    """The user's codes still waiting for a device (unused, unexpired), soonest to expire first."""
    return PairingCode.objects.filter(
        owner=user, used_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("expires_at")


def pairing_codes_pending_count(*, user: User) -> int:
    return pairing_codes_live_for_user(user=user).count()


def device_connection_summary(
    *, user: User, registrations: Mapping[str, TunnelRegistration] | None
) -> dict[str, Any]:
    """How many of the user's devices are paired and online, and their latest sign of
    life, as devices.presence says it: ``registrations`` (the tunnel registry's answer
    for the user's devices, by id) decide; None (the registry could not answer) falls
    back to the heartbeats."""
    return presence.summary(devices=device_list_for_user(user=user), registrations=registrations)
