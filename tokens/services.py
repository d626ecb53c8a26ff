"""Writes about personal API tokens: create (the secret exists only in the answer),
revoke, and authenticate a bearer value.

Nothing here logs a secret: lines carry the token's id and its owner's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tokens import credentials
from tokens.errors import TokenExpired, TokenInvalid, TokenRevoked, TooManyTokens
from tokens.models import PersonalToken
from visiona.api.scopes import Scope
from visiona.models import User

logger = logging.getLogger(__name__)

EXPIRY_CHOICES_DAYS = (7, 30, 90, 365)
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365
MAX_ACTIVE_TOKENS = 50
# A token's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: PersonalToken
    secret: str = field(repr=False)  # plain: shown once, never stored or logged


@transaction.atomic
def token_create(*, owner: User, name: str, scopes: list[str], expires_in_days: int) -> IssuedToken:
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValueError("expires_in_days out of range")  # the forms bound it first
    # Locks the owner's row: two creates at once cannot both pass the limit.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    if PersonalToken.objects.filter(owner=owner).active().count() >= MAX_ACTIVE_TOKENS:
        raise TooManyTokens(details={"limit": MAX_ACTIVE_TOKENS})
    secret = credentials.token_generate()
    ordered = [scope.value for scope in Scope if scope.value in set(scopes)]
    token = PersonalToken.objects.create(
        owner=owner,
        name=name.strip(),
        token_hash=credentials.token_hash(secret),
        display_prefix=secret[: credentials.DISPLAY_LENGTH],
        scopes=ordered,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    logger.info(
        "personal token created",
        extra={"token_id": str(token.pk), "owner_id": owner.pk, "scopes": ordered},
    )
    return IssuedToken(token=token, secret=secret)


def token_revoke(*, token: PersonalToken, by: User) -> PersonalToken:
    """Idempotent: a revoked token keeps its first revocation time."""
    now = timezone.now()
    if PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.revoked_at = now
        logger.info(
            "personal token revoked",
            extra={"token_id": str(token.pk), "owner_id": token.owner_id, "by_user_id": by.pk},
        )
    else:
        token.refresh_from_db(fields=["revoked_at"])
    return token


def token_authenticate(*, secret: str) -> PersonalToken:
    """The active token for a bearer value. Looked up on every request, so a revoked
    or expired token is refused at once; raises TokenInvalid / TokenExpired / TokenRevoked."""
    if not credentials.token_looks_valid(secret):
        raise TokenInvalid()
    token = (
        PersonalToken.objects.select_related("owner")
        .filter(token_hash=credentials.token_hash(secret))
        .first()
    )
    if token is None or not token.owner.is_active:
        raise TokenInvalid()
    if token.revoked_at is not None:
        raise TokenRevoked()
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenExpired()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
