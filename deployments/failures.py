"""What a failed deployment means to its owner: what happened, what to do, and whether
deploying again can help, per error code (docs/deployments.md lists them).

The agent reports a code and its own message ("sha256 … is not the model's …"): the
code picks a sentence in the reader's language; the agent's words stay available as
a detail, in English, as it wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deployments.choices import DeploymentState


@dataclass(frozen=True)
class Failure:
    code: str
    summary: str  # what happened
    next_step: str  # what to do about it
    retry: bool  # a new deployment of the same model to the device can help

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "summary": self.summary,
            "next_step": self.next_step,
            "retry": self.retry,
        }


# code: (what happened, what to do, whether deploying again can help)
_EXPLAINED = {
    "checksum_mismatch": (
        _(
            "The file that reached the device is not the model in My models (its size "
            "or SHA-256 differs): it was damaged or cut short on the way."
        ),
        _("Deploy it again: the device downloads a fresh copy."),
        True,
    ),
    "crc_mismatch": (
        _(
            "The model arrived as stored, but the NEF's own checksum does not match its "
            "content: the file in My models is damaged."
        ),
        _(
            "Deploying it again will not help: compile the model again or upload an "
            "intact NEF, then deploy that one."
        ),
        False,
    ),
    "download_failed": (
        _("The device could not download the model from visionA: the connection kept failing."),
        _("Check that the device reaches visionA, then deploy it again."),
        True,
    ),
    # Not "the model arrived": the agent also says install_failed when it refuses before
    # downloading, or when its disk fails during the download or a rollback.
    "install_failed": (
        _("The device did not install the model: it refused it or could not write it to its disk."),
        _(
            "Read what the device reported, check its disk and its models folder's "
            "permissions, then deploy it again."
        ),
        True,
    ),
    "chip_mismatch": (
        _("The model is not built for this device's chip, so the device did not take it."),
        _("Convert the model for the device's chip and deploy that one."),
        False,
    ),
    "too_large": (
        _("The model does not fit in the space left on the device."),
        _("Free some space on the device, then deploy it again."),
        True,
    ),
}


def failure_of(deployment) -> Failure | None:
    """The explanation of a failed deployment; None for any other state."""
    if deployment.state != DeploymentState.FAILED:
        return None
    return failure_of_code(deployment.error_code or "")


def failure_of_code(code: str) -> Failure:
    """The explanation of an error code the agent reported (a general one when unknown)."""
    if code in _EXPLAINED:
        summary, next_step, retry = _EXPLAINED[code]
        return Failure(code, str(summary), str(next_step), retry)
    return Failure(
        code,
        gettext("The device reported a failure visionA does not know (%(code)s).")
        % {"code": code or "?"},
        gettext("Deploy it again; if it fails again, read the agent's log on the device."),
        True,
    )


def can_deploy_again(deployment) -> bool:
    """Retry is offered for a cancelled deployment, and a failed one where it can help,
    while the model is still in My models."""
    if deployment.model.deleted_at is not None:
        return False
    if deployment.state == DeploymentState.CANCELLED:
        return True
    failure = failure_of(deployment)
    return failure is not None and failure.retry


KNOWN_CODES = tuple(_EXPLAINED)


def annotate(deployments, *, presences=None):
    """Each deployment with what its page shows beside the state: ``failure``
    (a Failure or None), ``can_retry``, and ``waits_for_device`` (pending on a
    device that is offline now, from ``presences`` by device id when given)."""
    for deployment in deployments:
        deployment.failure = failure_of(deployment)
        deployment.can_retry = can_deploy_again(deployment)
        presence = (presences or {}).get(str(deployment.device_id))
        deployment.waits_for_device = (
            deployment.state == DeploymentState.PENDING
            and presence is not None
            and not presence.online
        )
    return deployments
