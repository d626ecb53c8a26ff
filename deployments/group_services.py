"""Writes about groups and pins (docs/deployments.md, "Groups" and "Pinning").

Every device named must be the user's: one unknown (or another user's) refuses the
whole request with 404 ``device_not_found``, and nothing changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from deployments import group_selectors
from deployments.group_models import (
    GROUP_NAME_MAX_CHARS,
    PIN_REASON_MAX_CHARS,
    DeviceGroup,
    DevicePin,
    GroupPin,
)
from deployments.rollout_errors import GroupNameTaken
from devices import selectors as device_selectors
from devices.errors import DeviceNotFound
from devices.models import Device
from visiona.errors import ValidationFailed
from visiona.models import User

logger = logging.getLogger(__name__)


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise ValidationFailed.for_fields(
            [{"field": "name", "message": _("Give the group a name.")}]
        )
    if len(cleaned) > GROUP_NAME_MAX_CHARS:
        message = _("At most %(count)d characters.") % {"count": GROUP_NAME_MAX_CHARS}
        raise ValidationFailed.for_fields([{"field": "name", "message": message}])
    return cleaned


def _user_devices(*, user: User, device_ids: Sequence[uuid.UUID | str]) -> list[Device]:
    wanted = list(dict.fromkeys(str(device_id) for device_id in device_ids))
    try:
        found = device_selectors.device_list_for_user(user=user).in_bulk(wanted)
    except Exception:  # a malformed id is as unknown as another user's
        raise DeviceNotFound() from None
    if len(found) != len(wanted):
        raise DeviceNotFound()
    return list(found.values())


def group_create(
    *, user: User, name: str, device_ids: Sequence[uuid.UUID | str] = ()
) -> DeviceGroup:
    """A new group of the user's devices (none is fine: add them later)."""
    name = _clean_name(name)
    devices = _user_devices(user=user, device_ids=device_ids)
    try:
        with transaction.atomic():
            group = DeviceGroup.objects.create(owner=user, name=name)
            group.devices.add(*devices)
    except IntegrityError:
        raise GroupNameTaken() from None
    logger.info("group created", extra={"group_id": str(group.pk), "devices": len(devices)})
    return group_selectors.group_get_for_user(user=user, group_id=group.pk)


def group_rename(*, user: User, group_id: uuid.UUID | str, name: str) -> DeviceGroup:
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    group.name = _clean_name(name)
    try:
        with transaction.atomic():
            group.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise GroupNameTaken() from None
    return group


def group_delete(*, user: User, group_id: uuid.UUID | str) -> None:
    """Its devices stay as they are; its rollouts keep its name and their devices."""
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    group.delete()
    logger.info("group deleted", extra={"group_id": str(group_id)})


def group_add_devices(
    *,
    user: User,
    group_id: uuid.UUID | str,
    device_ids: Sequence[uuid.UUID | str] = (),
    chip: str = "",
) -> DeviceGroup:
    """Add these devices, and with ``chip`` every device of the user with that chip."""
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    devices = _user_devices(user=user, device_ids=device_ids)
    if chip:
        devices += list(device_selectors.device_list_for_user(user=user).filter(chip=chip))
    group.devices.add(*devices)  # already there: left as is
    return group_selectors.group_get_for_user(user=user, group_id=group.pk)


def group_remove_devices(
    *, user: User, group_id: uuid.UUID | str, device_ids: Sequence[uuid.UUID | str]
) -> DeviceGroup:
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    devices = _user_devices(user=user, device_ids=device_ids)
    group.devices.remove(*devices)
    return group_selectors.group_get_for_user(user=user, group_id=group.pk)


def _clean_reason(reason: str) -> str:
    # One line: rollout_pins keeps a group's pin as its name and this reason on two.
    reason = " ".join(str(reason).split())
    if len(reason) > PIN_REASON_MAX_CHARS:
        message = _("At most %(count)d characters.") % {"count": PIN_REASON_MAX_CHARS}
        raise ValidationFailed.for_fields([{"field": "reason", "message": message}])
    return reason


def device_pin(*, user: User, device_id: uuid.UUID | str, reason: str = "") -> DevicePin:
    """Keep the device out of rollouts (pinning again only changes the reason)."""
    device = device_selectors.device_get_for_user(user=user, device_id=device_id)
    reason = _clean_reason(reason)
    pin, _created = DevicePin.objects.update_or_create(
        device=device, defaults={"reason": reason, "pinned_by": user}
    )
    logger.info("device pinned", extra={"device_id": str(device.pk)})
    return pin


def device_unpin(*, user: User, device_id: uuid.UUID | str) -> None:
    device = device_selectors.device_get_for_user(user=user, device_id=device_id)
    DevicePin.objects.filter(device=device).delete()
    logger.info("device unpinned", extra={"device_id": str(device.pk)})


def group_pin(*, user: User, group_id: uuid.UUID | str, reason: str = "") -> GroupPin:
    """Keep every device of the group out of rollouts, whichever group they are of; the
    rollouts under way leave them out from their next phase (pinning again only changes
    the reason)."""
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    reason = _clean_reason(reason)
    pin, _created = GroupPin.objects.update_or_create(
        group=group, defaults={"reason": reason, "pinned_by": user}
    )
    logger.info("group pinned", extra={"group_id": str(group.pk)})
    return pin


def group_unpin(*, user: User, group_id: uuid.UUID | str) -> None:
    group = group_selectors.group_get_for_user(user=user, group_id=group_id)
    GroupPin.objects.filter(group=group).delete()
    logger.info("group unpinned", extra={"group_id": str(group.pk)})
