"""The errors deployments raise; the API turns them into the envelope (docs/deployments.md)."""

from django.utils.translation import gettext_lazy as _

from visiona.errors import AppError


class DeploymentNotFound(AppError):
    status = 404
    code = "deployment_not_found"
    message = _("This deployment does not exist or is not yours.")


class DeploymentChipMismatch(AppError):
    status = 400
    code = "chip_mismatch"
    message = _(
        "The model is not built for the chip of some of these devices. Nothing was deployed."
    )


class DeploymentFinished(AppError):
    status = 409
    code = "deployment_finished"
    message = _("This deployment has already finished.")


class DeploymentCancelled(AppError):
    status = 409
    code = "deployment_cancelled"
    message = _("This deployment was cancelled. Stop its download and delete the partial file.")


class DeploymentInvalidTransition(AppError):
    status = 409
    code = "invalid_transition"
    message = _("A deployment cannot go from this state to that one.")
