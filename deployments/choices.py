"""Enumerations for deployments."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
