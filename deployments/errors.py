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


class TooManyDownloads(AppError):
    """The device already downloads as many files as it may at once from this server."""

    status = 429
    code = "too_many_downloads"
    message = _("This device is already downloading as many files as it may at once.")


# Runs (docs/runs.md) ------------------------------------------------------------------


class RunNotFound(AppError):
    status = 404
    code = "run_not_found"
    message = _("This run does not exist or is not yours.")


class RunChipMismatch(AppError):
    """The model is not built for the device's chip. Not DeploymentChipMismatch: that one
    says nothing was deployed; the run's message (run_services.run_create) names the
    model's chips and the device's chip."""

    status = 400
    code = "chip_mismatch"
    message = _("The model is not built for this device's chip. Nothing was run.")


class ModelNotInstalled(AppError):
    status = 409
    code = "model_not_installed"
    message = _("This model is not installed on that device. Deploy it first, then run it.")


class RunFinished(AppError):
    status = 409
    code = "run_finished"
    message = _("This run has already finished.")


class RunCancelled(AppError):
    status = 409
    code = "run_cancelled"
    message = _("This run was cancelled. Stop running it.")


class RunNotCompleted(AppError):
    status = 409
    code = "run_not_completed"
    message = _("Only a completed run can be compared with the original ONNX.")


class RunInputMissing(AppError):
    status = 404
    code = "not_found"
    message = _("The run has no such input, or it has no outputs yet.")


class NoReference(AppError):
    status = 409
    code = "reference_not_found"
    message = _("The model keeps no original ONNX to compare with. Add it on the model's page.")
