"""Enumerations for devices.

The chips are the family every app shares (``visiona.chips``); a device's chip
uses the same values, so models and devices can be matched.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from visiona.chips import Chip

__all__ = [
    "Chip",
    "ConnectionStatus",
    "PairingCodeStatus",
    "RegistrationStatus",
]


class RegistrationStatus(models.TextChoices):
    """Stored: whether the device is (still) paired with its owner's account."""

    PAIRED = "paired", _("Paired")
    UNPAIRED = "unpaired", _("Unpaired")


class ConnectionStatus(models.TextChoices):
    """Derived when read, from ``last_seen_at`` and the online threshold; never stored."""

    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class PairingCodeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the device")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
