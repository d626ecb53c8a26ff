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

from conversion.clients import errors, http
from visiona.single_flight import SingleFlightTimeout, single_flight

TOKEN_PATH = "/oauth/token"
DOWNLOAD_TOKENS_PATH = "/file-access/download-tokens"

SCOPE_JOB_WRITE = "converter:job.write"
SCOPE_JOB_READ = "converter:job.read"
SCOPE_FILES_READ = "files:download.read"
SCOPE_FILES_DELEGATE = "files:download.delegate"

# Refresh this long before the token expires, so it never expires in flight...
REFRESH_MARGIN_SECONDS = 15
# ...but never more than this share of its lifetime: a margin as long as a
# short token's life would make every caller fetch its own (a stampede).
REFRESH_MARGIN_MAX_SHARE = 0.5
# Statuses by which an upstream refuses our bearer token (revoked, keys
# rotated, or our client lacks the scope or tenant).
REFUSED_STATUSES = frozenset({401, 403})
# A token fetched after a refusal and refused too, within this window, means
# our own credentials are wrong: a new token would not help.
REFUSAL_WINDOW_SECONDS = 5 * 60
DOWNLOAD_TOKEN_TTL_SECONDS = 300
BACKOFF = (1, 2)


@dataclass(frozen=True)
class ServiceToken:
    """A bearer token for one scope, and whether it replaced a refused one."""

    scope: str
    value: str
    after_refusal: bool = False

    @property
    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"ServiceToken(scope={self.scope!r}, after_refusal={self.after_refusal})"


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


def _refusal_key(scope: str) -> str:
    return _cache_key(scope) + ":refused"


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a token of ``lifetime`` seconds is refreshed."""
    return min(REFRESH_MARGIN_SECONDS, lifetime * REFRESH_MARGIN_MAX_SHARE)


def service_token(scope: str) -> str:
    """A bearer token for ``scope``, from the shared cache or one fresh fetch."""
    return bearer(scope).value


def bearer(scope: str) -> ServiceToken:
    """The service token for ``scope``, with what a refusal of it would mean."""
    key = _cache_key(scope)
    for _ in range(2):
        try:
            cached = single_flight(
                key,
                lambda: _fetch_service_token(scope),
                # Whole seconds: Redis drops a key whose timeout rounds down to 0.
                ttl=lambda value: max(value["refresh_at"] - time.time(), 1),
                wait=20,
            )
        except SingleFlightTimeout:
            raise errors.TokenServiceUnavailable() from None
        # An entry cached before refresh_at existed falls back to the fixed margin.
        refresh_at = cached.get("refresh_at", cached["expires_at"] - REFRESH_MARGIN_SECONDS)
        if time.time() < refresh_at:
            break
        # Past its refresh time (another instance's clock, a cache that outlived
        # the entry): drop this entry, unless someone replaced it already.
        _drop(scope, cached["token"])
    # Used as it is on the second round: better than a fetch per caller.
    return ServiceToken(scope, cached["token"], cached.get("after_refusal", False))


def call_with_service_token(method: str, url: str, *, scope: str, **kwargs) -> requests.Response:
    """``http.call`` carrying a service token for ``scope``, for calls that can be
    replayed. A refused token (401/403: keys rotated, token revoked) is dropped
    and replaced once, before anything of the answer is used, so callers never
    see a rotation. A refusal still returned means a new token did not help:
    our own credentials are wrong. Raises ``http.UpstreamUnreachable`` like
    ``http.call``.
    """
    extra_headers = kwargs.pop("headers", None) or {}
    for attempt in (1, 2):
        token = bearer(scope)
        headers = {**extra_headers, **token.authorization}
        response = http.call(method, url, headers=headers, **kwargs)
        if response.status_code not in REFUSED_STATUSES:
            return response
        credentials_wrong = drop_refused_token(token, status=response.status_code)
        if credentials_wrong or attempt == 2:
            return response
        response.close()
    raise AssertionError("unreachable")  # pragma: no cover


def drop_refused_token(token: ServiceToken, *, status: int) -> bool:
    """An upstream refused ``token``: drop it, so the next call fetches a new one.

    True when the token was itself fetched after a recent refusal: then our
    client id, secret, scopes or tenant are wrong, and a new token won't help.
    """
    _drop(token.scope, token.value)
    refusal_key = _refusal_key(token.scope)
    if token.after_refusal and cache.get(refusal_key) is not None:
        http.logger.error(
            "upstream refused a replaced service token",
            extra={"status": status, "scope": token.scope},
        )
        return True
    http.logger.warning(
        "upstream refused a service token", extra={"status": status, "scope": token.scope}
    )
    cache.add(refusal_key, True, REFUSAL_WINDOW_SECONDS)
    return False


def _drop(scope: str, token: str) -> None:
    # Only this token: a newer one another caller stored meanwhile stays.
    key = _cache_key(scope)
    cached = cache.get(key)
    if isinstance(cached, dict) and cached.get("token") == token:
        cache.delete(key)


def _fetch_service_token(scope: str) -> dict:
    if not settings.MC_SERVICE_CLIENT_ID:
        raise errors.CredentialsRefused()
    after_refusal = cache.get(_refusal_key(scope)) is not None
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
        raise errors.TokenServiceUnavailable() from None
    if response.status_code >= 500:
        raise errors.TokenServiceUnavailable()
    if response.status_code != 200:
        # Our client id, secret or scopes are wrong: nothing the user can fix.
        http.logger.error(
            "member center refused client credentials",
            extra={"status": response.status_code, "code": http.error_code(response)},
        )
        raise errors.CredentialsRefused()
    body = http.json_or_none(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.TokenServiceUnavailable()
    expires_in = body.get("expires_in")
    if expires_in is None:
        expires_in = 60  # lifetime not said: use it briefly, then ask again
    elif isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0:
        # A token already expired (or a lifetime that is not a number) is no token.
        http.logger.warning("member center sent a token without a usable lifetime")
        raise errors.TokenServiceUnavailable()
    now = time.time()
    return {
        "token": token,
        "expires_at": now + expires_in,
        "refresh_at": now + expires_in - refresh_margin(expires_in),
        "after_refusal": after_refusal,
    }


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
    service = bearer(SCOPE_FILES_DELEGATE)
    try:
        response = http.call(
            "POST",
            _base_url() + DOWNLOAD_TOKENS_PATH,
            service="member_center",
            endpoint=DOWNLOAD_TOKENS_PATH,
            backoff=BACKOFF,
            json=payload,
            headers=service.authorization,
        )
    except http.UpstreamUnreachable:
        raise errors.DownloadTokenUnavailable() from None
    if response.status_code in REFUSED_STATUSES:
        # Maybe our service token (rotated keys): the next download gets a new one.
        _drop(service.scope, service.value)
    if response.status_code >= 500:
        raise errors.DownloadTokenUnavailable()
    if response.status_code not in (200, 201):
        raise errors.DownloadTokenRefused()
    body = http.json_or_none(response)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.DownloadTokenUnavailable()
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
