"""The one place where the upstream clients' errors become the app's errors.

The clients (``conversion.clients``) raise their own errors, named after what the
upstream said; the services run every client call under ``mapped`` (or the
``maps_upstream_errors`` decorator), which raises the app error the user sees:
its status, code and translated message (conversion.md's table), with the
client's details and headers passed on where they mean something to the user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings

from conversion import errors
from conversion.clients import errors as client
from visiona.errors import AppError, PayloadTooLarge, ValidationFailed

T = TypeVar("T")


def _busy(exc: client.ClientError) -> AppError:
    return errors.ServiceBusy(headers={"Retry-After": exc.headers.get("Retry-After", "30")})


_MAPPING: dict[type[client.ClientError], Callable[[client.ClientError], AppError]] = {
    client.ConverterUnavailable: lambda exc: errors.ConverterUnavailable(),
    client.ConverterBusy: _busy,
    client.BudgetExhausted: _busy,
    client.JobNotFound: lambda exc: errors.JobNotFound(),
    client.UserHasActiveJob: lambda exc: errors.ActiveJobExists(details=exc.details),
    client.JobNotReady: lambda exc: errors.JobNotCompleted(),
    client.SourceNotAvailable: lambda exc: errors.ArtifactUnavailable(),
    client.InvalidRequest: lambda exc: ValidationFailed.for_fields(exc.details.get("fields", [])),
    client.FileTooLarge: lambda exc: PayloadTooLarge(),
    client.UploadNotAccepted: lambda exc: errors.UploadNotAccepted(),
    client.CancelNotSupported: lambda exc: errors.CancelNotSupported(),
    client.JobNotCancellable: lambda exc: errors.JobNotCancellable(),
    client.CredentialsRefused: lambda exc: errors.IdpMisconfigured(),
    client.TokenServiceUnavailable: lambda exc: errors.IdpUnavailable(),
    client.DownloadTokenRefused: lambda exc: errors.DownloadTokenFailed(),
    client.DownloadTokenUnavailable: lambda exc: errors.McTokenUnavailable(),
    client.FaaUnavailable: lambda exc: errors.FaaUnavailable(),
}


def app_error(exc: client.ClientError) -> AppError:
    for kind in type(exc).__mro__:
        if kind in _MAPPING:
            return _MAPPING[kind](exc)
    return errors.ConverterUnavailable()


@contextmanager
def mapped() -> Iterator[None]:
    """Client errors raised inside become the app's."""
    try:
        yield
    except client.ClientError as exc:
        raise app_error(exc) from exc


def maps_upstream_errors(func: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> T:
        with mapped():
            return func(*args, **kwargs)

    return wrapper


def require_enabled() -> None:
    """Conversion works only when both the converter and FAA are configured."""
    if not (settings.CONVERTER_BASE_URL and settings.FAA_BASE_URL):
        raise errors.ConversionDisabled()
