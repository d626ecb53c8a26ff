"""Every error the conversion flow can answer, with its code, status and message.

The codes and statuses follow the table in docs/conversion.md ("Errors"). A
message is what the user reads: it never carries an upstream body or a secret.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from visiona.errors import AppError


class JobNotFound(AppError):
    # Also someone else's job: the two must be indistinguishable (no enumeration).
    status = 404
    code = "job_not_found"
    message = _("This conversion job does not exist.")


class JobLost(AppError):
    # Not raised: its message is recorded on a job the converter lost unfinished.
    status = 410
    code = "job_lost"
    message = _("The converter no longer has this job (it expired or was lost). Start it again.")


class ActiveJobExists(AppError):
    status = 409
    code = "active_job_exists"
    message = _("You already have a conversion in progress. Wait for it to finish first.")


class UploadInProgress(AppError):
    # The upload twin of ActiveJobExists: the job does not exist until the upload ends.
    status = 409
    code = "upload_in_progress"
    message = _("You are already uploading a model. Wait for that upload to finish first.")


class JobNotCompleted(AppError):
    status = 409
    code = "job_not_completed"
    message = _("This conversion has not completed, so there is no NEF model yet.")


class ArtifactUnavailable(AppError):
    status = 409
    code = "artifact_unavailable"
    message = _(
        "The converted model is no longer available from the converter "
        "(converted files are kept for 7 days)."
    )


class ServiceBusy(AppError):
    status = 503
    code = "service_busy"
    message = _("The converter is busy right now. Please try again in a minute.")


class UploadNotAccepted(AppError):
    # The converter refused our service token mid-upload (keys rotated): the token
    # is replaced, but a streamed upload cannot be replayed, so the user sends it again.
    status = 503
    code = "upload_not_accepted"
    message = _("The converter could not accept this upload just now. Please upload it again.")


class ConverterUnavailable(AppError):
    status = 502
    code = "converter_unavailable"
    message = _("The converter is not answering properly. Please try again later.")


class FaaUnavailable(AppError):
    status = 502
    code = "faa_unavailable"
    message = _("The model file store is not available. Please try again later.")


class IdpMisconfigured(AppError):
    status = 500
    code = "idp_misconfigured"
    message = _(
        "visionA Cloud is not set up correctly to reach Kneron's services. Please contact support."
    )


class IdpUnavailable(AppError):
    status = 503
    code = "idp_unavailable"
    message = _("Member Center is not available. Please try again later.")


class DownloadTokenFailed(AppError):
    status = 502
    code = "download_token_failed"
    message = _("Member Center refused to issue a download link. Please try again later.")


class McTokenUnavailable(AppError):
    status = 502
    code = "mc_token_unavailable"
    message = _("Member Center could not issue a download link right now. Please try again later.")


class StorageUnavailable(AppError):
    status = 500
    code = "storage_unavailable"
    message = _("visionA Cloud could not store the model. Please try again later.")


class ConversionDisabled(AppError):
    status = 501
    code = "conversion_disabled"
    message = _("Model conversion is not configured on this server.")


class AccountNotUsable(AppError):
    # The converter accepts only ids matching its pattern; a Member Center
    # ``sub`` outside it is a setup problem for support, not the user's input.
    status = 500
    code = "account_not_usable"
    message = _("Your account id cannot be used with the converter. Please contact support.")


class CancelNotSupported(AppError):
    # The converter answers DELETE /api/v1/jobs/{id} with 501 (not implemented yet).
    status = 501
    code = "cancel_not_supported"
    message = _("The converter cannot cancel jobs yet.")


class JobNotCancellable(AppError):
    status = 409
    code = "job_not_cancellable"
    message = _("This conversion has already finished, so it cannot be cancelled.")
