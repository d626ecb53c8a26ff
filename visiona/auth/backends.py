"""Who may sign in, and how a Member Center identity maps to a user."""

from __future__ import annotations

import hashlib
import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from visiona.auth.discovery import provider_setting
from visiona.auth.user_cache import cached_user

logger = logging.getLogger(__name__)

# Claim -> user field, refreshed at every sign-in.
_CLAIM_FIELDS = {"email": "email", "given_name": "first_name", "family_name": "last_name"}


def username_for_sub(sub: str) -> str:
    username = f"mc-{sub}"
    if len(username) <= 150:
        return username
    return "mc-" + hashlib.sha256(sub.encode()).hexdigest()


class MemberCenterBackend(OIDCAuthenticationBackend):
    """OIDC users keyed on the ``sub`` claim (the library matches on email by default)."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for every sign-in attempt, password ones
        # included; the library's __init__ reads the provider's endpoints
        # (discovery over HTTP), so that waits until an OIDC sign-in really happens.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ENABLED or "password" in kwargs:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def get_token(self, payload: dict) -> dict:
        if not payload.get("client_secret"):
            payload.pop("client_secret", None)  # public client
        return super().get_token(payload)

    def get_userinfo(self, access_token, id_token, payload) -> dict:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("userinfo names another subject")
            claims.update(userinfo)
        return claims

    def retrieve_matching_jwk(self, token: str):
        """The provider key that signed ``token``.

        The library's version crashes when the token or a key has no ``kid``
        (some providers omit it when they have one key). Match on ``kid`` when
        both name one, else on the algorithm, and refuse an ambiguous choice.
        """
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        header = jwt.get_unverified_header(token)
        token_kid, token_alg = header.get("kid"), header.get("alg")
        candidates = [
            key
            for key in response.json().get("keys", [])
            if key.get("alg", token_alg) == token_alg
            and (token_kid is None or key.get("kid") in (None, token_kid))
        ]
        if token_kid is not None:
            exact = [key for key in candidates if key.get("kid") == token_kid]
            candidates = exact or candidates
        if len(candidates) != 1:
            raise SuspiciousOperation("no single provider key matches the ID token")
        return jwt.PyJWK(candidates[0])

    def get_user(self, user_id):
        # The signed-in user of every request: from this process's memory for a few
        # seconds (visiona/auth/user_cache.py), as the library's lookup otherwise.
        return cached_user(user_id)

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict):
        return self.UserModel.objects.filter(oidc_sub=claims["sub"])

    def describe_user_by_claims(self, claims: dict) -> str:
        return "sub {}".format(claims.get("sub"))

    def create_user(self, claims: dict):
        user = self.UserModel(username=username_for_sub(claims["sub"]), oidc_sub=claims["sub"])
        user.set_unusable_password()
        self._apply_claims(user, claims)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # The same person signing in twice at once: the other request won.
            return self.UserModel.objects.get(oidc_sub=claims["sub"])
        logger.info("user created from member center", extra={"user_id": user.pk})
        return user

    def update_user(self, user, claims: dict):
        if self._apply_claims(user, claims):
            user.save(update_fields=list(_CLAIM_FIELDS.values()))
        return user

    @staticmethod
    def _apply_claims(user, claims: dict) -> bool:
        changed = False
        for claim, field in _CLAIM_FIELDS.items():
            value = str(claims.get(claim) or "")[: user._meta.get_field(field).max_length]
            if claim in claims and getattr(user, field) != value:
                setattr(user, field, value)
                changed = True
        if "name" in claims and "given_name" not in claims and not user.first_name:
            user.first_name = str(claims["name"])[:150]
            changed = True
        return changed


class PasswordBackend(ModelBackend):
    """Passwords are for local development; with Member Center configured only
    staff may use one (for Django admin)."""

    def get_user(self, user_id):
        # The signed-in user of every request: from this process's memory for a few
        # seconds (visiona/auth/user_cache.py); ModelBackend's own checks after it.
        user = cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return user.is_staff or not settings.OIDC_ENABLED
