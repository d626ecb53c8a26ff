"""Reads about personal API tokens. Another user's token is indistinguishable from
an unknown one."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from tokens.errors import TokenNotFound
from tokens.models import PersonalToken
from visiona.models import User


def token_list_for_user(*, user: User) -> QuerySet[PersonalToken]:
    return PersonalToken.objects.filter(owner=user).order_by("-created_at")


def token_get_for_user(*, user: User, token_id: uuid.UUID) -> PersonalToken:
    try:
        return token_list_for_user(user=user).get(pk=token_id)
    except PersonalToken.DoesNotExist:
        raise TokenNotFound() from None
