"""Enumerations for groups, rollouts and rollback (docs/deployments.md, "Rollouts")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeploymentKind(models.TextChoices):
    """Stored: what a deployment asks of the agent."""

    INSTALL = "install", _("Install")
    # Bring back the model the device had before (its kept copy, or a fresh download)
    # and take the undone deployment's model off the device.
    ROLLBACK = "rollback", _("Rollback")


class RestoredFrom(models.TextChoices):
    """Stored: where the agent found the model a rollback brought back."""

    IN_PLACE = "in_place", _("still in place on the device")
    KEPT_COPY = "kept_copy", _("the device's kept copy")
    DOWNLOAD = "download", _("a fresh download")


class RolloutState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    ROLLING_BACK = "rolling_back", _("Rolling back")
    ROLLED_BACK = "rolled_back", _("Rolled back")

    @classmethod
    def active(cls) -> tuple[str, ...]:
        """A group has at most one rollout in these states at a time."""
        return (cls.RUNNING, cls.PAUSED, cls.ROLLING_BACK)


class PhaseState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    # Failed, then the user resumed the rollout past it.
    ACCEPTED = "accepted", _("Accepted despite failures")
    # The rollout was rolled back before this phase started.
    CANCELLED = "cancelled", _("Not started")


class TargetState(models.TextChoices):
    """One device in a rollout."""

    SKIPPED = "skipped", _("Skipped")
    PLANNED = "planned", _("Planned")
    DEPLOYING = "deploying", _("Deploying")
    CHECKING = "checking", _("Checking")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    # Still waiting for the model after its phase's deadline: offline, not blocking.
    OFFLINE = "offline", _("Offline, waiting")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def open(cls) -> tuple[str, ...]:
        """States the engine looks at again when something happens."""
        return (cls.DEPLOYING, cls.CHECKING, cls.OFFLINE)


class RollbackState(models.TextChoices):
    """A rollout's device, once the rollout is rolled back."""

    NONE = "", _("Not rolled back")
    SENT = "sent", _("Rollback sent")
    SKIPPED = "skipped", _("Nothing to roll back")
