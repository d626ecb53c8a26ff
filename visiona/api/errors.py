"""DRF's exception handler: every API error leaves in the one envelope."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from redis.exceptions import RedisError
from rest_framework import exceptions as drf
from rest_framework.response import Response

from visiona import errors

logger = logging.getLogger(__name__)

_DRF_TO_APP: list[tuple[type[Exception], type[errors.AppError]]] = [
    (drf.NotAuthenticated, errors.Unauthenticated),
    (drf.AuthenticationFailed, errors.Unauthenticated),
    (drf.PermissionDenied, errors.PermissionDenied),
    (DjangoPermissionDenied, errors.PermissionDenied),
    (drf.NotFound, errors.NotFound),
    (Http404, errors.NotFound),
    (drf.MethodNotAllowed, errors.MethodNotAllowed),
    (drf.UnsupportedMediaType, errors.UnsupportedMediaType),
    (drf.ParseError, errors.MalformedRequest),
    (OperationalError, errors.DatabaseUnavailable),
    (InterfaceError, errors.DatabaseUnavailable),
    (RedisError, errors.CacheUnavailable),
]


def _field_errors(detail, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into ``[{field, message}]``."""
    if isinstance(detail, dict):
        fields = []
        for name, value in detail.items():
            key = "" if name == "non_field_errors" else str(name)
            fields += _field_errors(value, f"{prefix}.{key}" if prefix and key else prefix or key)
        return fields
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        fields = []
        for index, item in enumerate(detail):
            fields += _field_errors(item, f"{prefix}.{index}" if prefix else str(index))
        return fields
    return [{"field": prefix, "message": str(detail)}]


def to_app_error(exc: Exception) -> errors.AppError:
    if isinstance(exc, errors.AppError):
        return exc
    parse_error = errors.request_parse_error(exc)
    if parse_error is not None:
        # One line, no traceback: anyone can send these, and they are not our fault.
        logger.info("unreadable request: %s", exc.__class__.__name__)
        return parse_error
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailed.for_fields(_field_errors(exc.detail))
    if isinstance(exc, drf.Throttled):
        wait = getattr(exc, "wait", None)
        headers = {"Retry-After": str(wait)} if wait else {}
        return errors.RateLimited(headers=headers)
    for source, target in _DRF_TO_APP:
        if isinstance(exc, source):
            if target.status >= 500:
                # An outage of a service we need: one line (no traceback), not a bug.
                logger.warning("service unavailable: %s", exc.__class__.__name__)
            return target()
    logger.exception("unhandled error in API view")
    return errors.AppError()


def exception_handler(exc: Exception, context) -> Response:
    error = to_app_error(exc)
    if error.status >= 500 and isinstance(exc, errors.AppError):
        # Its details here; the answer's own line (visiona.middleware.log_answer) follows.
        logger.info("api error %s", error.code, extra={"details": error.details})
    response = Response(errors.envelope(error), status=error.status)
    errors.mark_expected(response, error)
    for name, value in error.headers.items():
        response[name] = value
    if error.status == 401:
        # The challenge of the authenticator that refused (session or device token).
        response["WWW-Authenticate"] = getattr(exc, "auth_header", None) or 'Session realm="api"'
    return response
