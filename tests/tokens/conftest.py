"""Personal API tokens made through the service, and clients that send them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tokens import services
from tokens.models import PersonalToken
from visiona.api.scopes import Scope

ALL_SCOPES = [scope.value for scope in Scope]


@pytest.fixture
def make_token():
    def make(owner, *, scopes=ALL_SCOPES, days=30, name="ci"):
        return services.token_create(owner=owner, name=name, scopes=scopes, expires_in_days=days)

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def token_client():
    """A client that checks CSRF like a browser would, and has no session."""
    return Client(enforce_csrf_checks=True)


def expire(token: PersonalToken) -> None:
    PersonalToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # Moved in the database behind the app's back (no signal): this process reads the
    # row afresh, as it would after AUTH_CACHE_SECONDS (a token's own expiry needs none).
    services.forget_token(token_hash=token.token_hash)
