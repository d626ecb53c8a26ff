"""Self-contained signed tokens, so every sandbox process verifies them alone.

To a client they are opaque strings, as the real Member Center's are. A token
is ``django.core.signing`` over {kind, exp, ...}: a service token carries its
scopes, a delegated download token its tenant, user, object key and method.
"""

from __future__ import annotations

from django.core import signing

from sandbox import clock

SERVICE = "service"
DOWNLOAD = "download"
SERVICE_SCOPES = frozenset(
    {
        "converter:job.write",
        "converter:job.read",
        "files:download.read",
        "files:download.delegate",
        "files:upload.write",
    }
)
_SALT = "sandbox.tokens"


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def issue(kind: str, ttl_seconds: int, **claims) -> tuple[str, int]:
    """A new token and its expiry (Unix seconds)."""
    expires = int(clock.now()) + ttl_seconds
    return signing.dumps({"kind": kind, "exp": expires, **claims}, salt=_SALT), expires


def read(token: str, *, kind: str) -> dict:
    """The token's claims; TokenError when missing, forged, of another kind or expired."""
    if not token:
        raise TokenError("invalid_token", "A bearer token is required.")
    try:
        claims = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise TokenError("invalid_token", "The token is not valid.") from None
    if not isinstance(claims, dict) or claims.get("kind") != kind:
        raise TokenError("invalid_token", "The token is not valid here.")
    if claims["exp"] <= clock.now():
        raise TokenError("token_expired", "The token has expired.")
    return claims
