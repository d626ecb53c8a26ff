"""Device groups and pins (docs/deployments.md, "Groups" and "Pinning").

A group is a user's named set of their devices; a device may be in several. A pin
keeps a device out of rollouts, with the reason shown wherever it is left out; a
group's pin does so for every device of the group (in any rollout, of any group).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from devices.models import Device

GROUP_NAME_MAX_CHARS = 100
PIN_REASON_MAX_CHARS = 200


class DeviceGroup(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=GROUP_NAME_MAX_CHARS)
    devices = models.ManyToManyField(
        Device, verbose_name=_("devices"), related_name="device_groups", blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("device group")
        verbose_name_plural = _("device groups")
        ordering = [Lower("name"), "pk"]
        constraints = [
            # "Lab" and "lab" would be one group to the people choosing it.
            models.UniqueConstraint("owner", Lower("name"), name="deployments_group_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Pin(models.Model):
    """What a device's pin and a group's share: why, by whom, since when."""

    reason = models.CharField(_("reason"), max_length=PIN_REASON_MAX_CHARS, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pinned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pinned_at = models.DateTimeField(_("pinned"), auto_now_add=True)

    class Meta:
        abstract = True


class DevicePin(Pin):
    """A pinned device keeps the model it has: rollouts leave it out, with this reason."""

    device = models.OneToOneField(
        Device,
        verbose_name=_("device"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pin",
    )

    class Meta:
        verbose_name = _("pinned device")
        verbose_name_plural = _("pinned devices")

    def __str__(self) -> str:
        return str(self.device_id)


class GroupPin(Pin):
    """A pinned group: every device in it keeps the model it has, whichever group a
    rollout is of; the devices added later too, and none once taken out."""

    group = models.OneToOneField(
        DeviceGroup,
        verbose_name=_("group"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pin",
    )

    class Meta:
        verbose_name = _("pinned group")
        verbose_name_plural = _("pinned groups")

    def __str__(self) -> str:
        return str(self.group_id)
