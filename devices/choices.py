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
    "DeploymentState",
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


class DeploymentState(models.TextChoices):
    """Stored: where one model's deployment to one device is (docs/deployments.md)."""

    PENDING = "pending", _("Waiting for the device")
    DOWNLOADING = "downloading", _("Downloading")
    VERIFYING = "verifying", _("Verifying")
    INSTALLED = "installed", _("Installed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.INSTALLED, cls.FAILED, cls.CANCELLED})

    @classmethod
    def unfinished(cls) -> tuple[str, ...]:
        return (cls.PENDING, cls.DOWNLOADING, cls.VERIFYING)
