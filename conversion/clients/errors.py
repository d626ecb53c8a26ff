"""Errors of the upstream clients themselves: what an upstream said or failed to say,
before it means anything to a user.

The clients raise these, never the app's errors; ``conversion.upstream_errors`` maps
each onto the app's error (``conversion.errors``, ``visiona.errors``) in one place.
``details`` and ``headers`` carry what the app's error passes on (the fields the
converter refused, the active job, a sane Retry-After).
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of the clients' own errors."""

    def __init__(self, *, details: dict | None = None, headers: dict | None = None) -> None:
        super().__init__(type(self).__name__)
        self.details = details or {}
        self.headers = headers or {}


# --- The converter -----------------------------------------------------------------


class ConverterUnavailable(ClientError):
    """No answer, a 5xx, or an answer that is not the contract's."""


class ConverterBusy(ClientError):
    """429 ``rate_limit_exceeded`` or 503 ``service_busy`` (headers: Retry-After)."""


class BudgetExhausted(ClientError):
    """The shared converter budget has no slot for a background call now."""

    def __init__(self, retry_after: int = 30) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class JobNotFound(ClientError):
    """404 ``job_not_found`` (also another client's job)."""


class UserHasActiveJob(ClientError):
    """409 ``user_has_active_job`` (details: ``active_job``)."""


class JobNotReady(ClientError):
    """409 ``job_not_ready_for_promote``."""


class SourceNotAvailable(ClientError):
    """The artifact is gone: the converter's 409 ``source_not_available``, FAA's 404."""


class InvalidRequest(ClientError):
    """400 / 422 (details: ``fields``, the converter's per-field messages)."""


class FileTooLarge(ClientError):
    """413 ``file_too_large``."""


class UploadNotAccepted(ClientError):
    """Our token was refused mid-upload; the stream cannot be replayed."""


class CancelNotSupported(ClientError):
    """501 to DELETE /api/v1/jobs/{id}: the converter cannot cancel yet."""


class JobNotCancellable(ClientError):
    """409 to DELETE: the job has already finished."""


# --- Member Center and the File Access Agent ------------------------------------------


class CredentialsRefused(ClientError):
    """Member Center (or an upstream, twice) refuses our own client credentials."""


class TokenServiceUnavailable(ClientError):
    """Member Center's token endpoint is down, or the converter could not reach it."""


class DownloadTokenRefused(ClientError):
    """Member Center refused the delegated download token (4xx)."""


class DownloadTokenUnavailable(ClientError):
    """Member Center's download-token endpoint is down or answered nonsense."""


class FaaUnavailable(ClientError):
    """The File Access Agent did not answer well (or the converter says so: 502)."""
