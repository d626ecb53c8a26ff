"""Enumerations for runs (docs/runs.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunState(models.TextChoices):
    PENDING = "pending", _("Waiting for the device")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def unfinished(cls) -> tuple[str, ...]:
        return (cls.PENDING, cls.RUNNING)

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.COMPLETED, cls.FAILED, cls.CANCELLED})


class RunInputState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReferenceState(models.TextChoices):
    """Where the comparison with the original ONNX is (computed by the background worker)."""

    NONE = "none", _("No original ONNX")
    PENDING = "pending", _("Waiting for the worker")
    COMPUTING = "computing", _("Computing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
