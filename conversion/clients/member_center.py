"""Member Center as an OAuth 2.0 server for visionA the service.

Service tokens (client credentials) are cached per scope in the Django cache,
so every worker and instance shares them; one fetch serves all concurrent
callers. Delegated download tokens are per download and never cached.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversion import errors
from conversion.clients import http
from visiona.single_flight import SingleFlightTimeout, single_flight

TOKEN_PATH = "/oauth/token"
DOWNLOAD_TOKENS_PATH = "/file-access/download-tokens"

SCOPE_JOB_WRITE = "converter:job.write"
SCOPE_JOB_READ = "converter:job.read"
SCOPE_FILES_READ = "files:download.read"
SCOPE_FILES_DELEGATE = "files:download.delegate"

# Refresh this long before the token expires, so it never expires in flight.
REFRESH_MARGIN_SECONDS = 15
DOWNLOAD_TOKEN_TTL_SECONDS = 300
BACKOFF = (1, 2)


@dataclass(frozen=True)
class DownloadToken:
    token: str
    expires_at: datetime

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"DownloadToken(expires_at={self.expires_at.isoformat()})"


def _base_url() -> str:
    return settings.MC_SERVICE_ISSUER.rstrip("/")


def _cache_key(scope: str) -> str:
    return "mc:service-token:" + hashlib.sha256(scope.encode()).hexdigest()[:32]


def service_token(scope: str) -> str:
    """A bearer token for ``scope``, from the shared cache or one fresh fetch."""
    key = _cache_key(scope)
    for _ in range(2):
        try:
            cached = single_flight(
                key,
                lambda: _fetch_service_token(scope),
                ttl=lambda value: max(
                    value["expires_at"] - time.time() - REFRESH_MARGIN_SECONDS, 1
                ),
                wait=20,
            )
        except SingleFlightTimeout:
            raise errors.IdpUnavailable() from None
        if time.time() < cached["expires_at"] - REFRESH_MARGIN_SECONDS:
            return cached["token"]
        # Inside the margin (another instance's clock, a cache that outlived
        # the token): drop it and fetch once more.
        cache.delete(key)
    # A token whose whole lifetime is shorter than the margin: use it as it is.
    return cached["token"]


def call_with_service_token(method: str, url: str, *, scope: str, **kwargs) -> requests.Response:
    """``http.call`` carrying a service token for ``scope``, for calls that can be
    replayed. A token refused with 401 (keys rotated, token revoked) is dropped
    and replaced once, before anything of the answer is used, so callers never
    see a rotation. Raises ``http.UpstreamUnreachable`` like ``http.call``.
    """
    for attempt in (1, 2):
        headers = {"Authorization": f"Bearer {service_token(scope)}"}
        response = http.call(method, url, headers=headers, **kwargs)
        if response.status_code != 401 or attempt == 2:
            return response
        response.close()
        forget_service_token(scope)
    raise AssertionError("unreachable")  # pragma: no cover


def forget_service_token(scope: str) -> None:
    """Drop a token an upstream refused (revoked, rotated keys)."""
    cache.delete(_cache_key(scope))


def _fetch_service_token(scope: str) -> dict:
    if not settings.MC_SERVICE_CLIENT_ID:
        raise errors.IdpMisconfigured()
    try:
        response = http.call(
            "POST",
            _base_url() + TOKEN_PATH,
            service="member_center",
            endpoint=TOKEN_PATH,
            backoff=BACKOFF,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(settings.MC_SERVICE_CLIENT_ID, settings.MC_SERVICE_CLIENT_SECRET),
        )
    except http.UpstreamUnreachable:
        raise errors.IdpUnavailable() from None
    if response.status_code >= 500:
        raise errors.IdpUnavailable()
    if response.status_code != 200:
        # Our client id, secret or scopes are wrong: nothing the user can fix.
        http.logger.error(
            "member center refused client credentials",
            extra={"status": response.status_code, "code": http.error_code(response)},
        )
        raise errors.IdpMisconfigured()
    body = http.json_or_none(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.IdpUnavailable()
    expires_in = body.get("expires_in")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        expires_in = 60  # unknown lifetime: use it briefly, then ask again
    return {"token": token, "expires_at": time.time() + float(expires_in)}


def download_token(
    *, tenant_id: str, user_id: str, object_key: str, ttl_seconds: int = DOWNLOAD_TOKEN_TTL_SECONDS
) -> DownloadToken:
    """A delegated token that lets one browser GET one FAA object for a few minutes."""
    payload = {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "object_key": object_key,
        "method": "GET",
        "expires_in_seconds": ttl_seconds,
    }
    bearer = service_token(SCOPE_FILES_DELEGATE)
    try:
        response = http.call(
            "POST",
            _base_url() + DOWNLOAD_TOKENS_PATH,
            service="member_center",
            endpoint=DOWNLOAD_TOKENS_PATH,
            backoff=BACKOFF,
            json=payload,
            headers={"Authorization": f"Bearer {bearer}"},
        )
    except http.UpstreamUnreachable:
        raise errors.McTokenUnavailable() from None
    if response.status_code in (401, 403):
        forget_service_token(SCOPE_FILES_DELEGATE)
    if response.status_code >= 500:
        raise errors.McTokenUnavailable()
    if response.status_code not in (200, 201):
        raise errors.DownloadTokenFailed()
    body = http.json_or_none(response)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.McTokenUnavailable()
    return DownloadToken(token=token, expires_at=_expiry(body, ttl_seconds))


def _expiry(body: dict, requested_ttl: int) -> datetime:
    # Versions differ: expires_at (ISO 8601), expires_in_seconds, or neither.
    value = body.get("expires_at")
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    seconds = body.get("expires_in_seconds")
    if not isinstance(seconds, int | float) or seconds <= 0:
        seconds = requested_ttl
    return timezone.now() + timedelta(seconds=seconds)
