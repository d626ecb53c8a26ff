"""The Member Center stand-in, under /sandbox/mc/ (upstreams.md §1).

Only the service side: client-credentials tokens and delegated download
tokens. People sign in with local passwords in sandbox mode, so there is no
OpenID Connect here. Errors are plain OAuth 2.0 ones, as Member Center answers.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock, faults, store, tokens
from sandbox.http import bearer_token, json_answer, read_json

DELEGATE_SCOPE = "files:download.delegate"
DEFAULT_DOWNLOAD_TTL_SECONDS = 300
MAX_DOWNLOAD_TTL_SECONDS = 3600


def _oauth_error(status: int, code: str, description: str, **headers: str) -> HttpResponse:
    return json_answer({"error": code, "error_description": description}, status, **headers)


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """POST oauth/token: grant_type=client_credentials, client id and secret in HTTP Basic."""
    if request.method != "POST":
        return _oauth_error(405, "invalid_request", "Use POST.", Allow="POST")
    if status := faults.take("mc.token"):
        return _oauth_error(status, "server_error", "Injected fault (sandbox).")
    client_id = _authenticated_client(request)
    if client_id is None:
        return _oauth_error(
            401,
            "invalid_client",
            "Client authentication failed.",
            WWW_Authenticate='Basic realm="sandbox-mc"',
        )
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is granted.")
    # No scope asked: every scope this client may have, as RFC 6749 §3.3 allows.
    scopes = list(dict.fromkeys(request.POST.get("scope", "").split())) or sorted(
        tokens.SERVICE_SCOPES
    )
    unknown = [scope for scope in scopes if scope not in tokens.SERVICE_SCOPES]
    if unknown:
        return _oauth_error(400, "invalid_scope", f"Unknown scope: {' '.join(unknown)}.")
    ttl = settings.SANDBOX_TOKEN_TTL_SECONDS
    access_token, _ = tokens.issue(tokens.SERVICE, ttl, scopes=scopes, client_id=client_id)
    return json_answer(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(scopes),
        }
    )


def _authenticated_client(request: HttpRequest) -> str | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    raw_id, _, raw_secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    # The sandbox's own record of the client, unless set: visionA's settings.
    expected_id = settings.SANDBOX_MC_CLIENT_ID or settings.MC_SERVICE_CLIENT_ID
    expected_secret = settings.SANDBOX_MC_CLIENT_SECRET or settings.MC_SERVICE_CLIENT_SECRET
    if not (expected_id and expected_secret):
        return None
    if constant_time_compare(client_id, expected_id) & constant_time_compare(
        secret, expected_secret
    ):
        return client_id
    return None


@csrf_exempt
def download_tokens(request: HttpRequest) -> HttpResponse:
    """POST file-access/download-tokens: a token for one GET of one object."""
    if request.method != "POST":
        return _oauth_error(405, "invalid_request", "Use POST.", Allow="POST")
    try:
        claims = tokens.read(bearer_token(request), kind=tokens.SERVICE)
    except tokens.TokenError as exc:
        return _oauth_error(
            401, "invalid_token", exc.message, WWW_Authenticate='Bearer error="invalid_token"'
        )
    if DELEGATE_SCOPE not in claims["scopes"]:
        return _oauth_error(403, "insufficient_scope", f"The token lacks {DELEGATE_SCOPE}.")
    body = read_json(request)
    if body is None:
        return _oauth_error(400, "invalid_request", "Send a JSON object.")
    problem = _download_request_problem(body)
    if problem:
        return _oauth_error(400, "invalid_request", problem)
    ttl = body.get("expires_in_seconds", DEFAULT_DOWNLOAD_TTL_SECONDS)
    delegated, expires = tokens.issue(
        tokens.DOWNLOAD,
        ttl,
        tenant_id=body["tenant_id"],
        user_id=body["user_id"],
        object_key=body["object_key"],
        method="GET",
    )
    return json_answer({"token": delegated, "expires_at": clock.iso8601(expires)}, 201)


def _download_request_problem(body: dict) -> str | None:
    for name in ("tenant_id", "user_id", "object_key"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is required."
    if not store.is_valid_object_key(body["object_key"]):
        return "object_key is not a valid key."
    if body.get("method", "GET") != "GET":
        return "Only GET can be delegated."
    ttl = body.get("expires_in_seconds", DEFAULT_DOWNLOAD_TTL_SECONDS)
    if type(ttl) is not int or not 0 < ttl <= MAX_DOWNLOAD_TTL_SECONDS:
        return f"expires_in_seconds must be an integer from 1 to {MAX_DOWNLOAD_TTL_SECONDS}."
    return None
