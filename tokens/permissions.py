"""Scope enforcement: in REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"], after
IsAuthenticated, so every view that does not replace its permissions checks it.

A session may do everything; a personal token only what the view declares for the
method (visiona/api/scopes.py). A view that declares nothing refuses tokens (fail
closed); the declaration test makes that a test failure before it ships.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework.permissions import BasePermission

from tokens.errors import TokenNotAllowed, TokenScopeMissing
from tokens.models import PersonalToken
from visiona.api.scopes import ANY_SCOPE, NOT_FOR_TOKENS, PUBLIC, declared_scope


class TokenScopeRequired(BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, PersonalToken):
            return True
        if request.method.lower() not in view.http_method_names or not hasattr(
            view, request.method.lower()
        ):
            return True  # a method the route does not serve: DRF's 405, as for a session
        needed = declared_scope(view, request.method)
        if needed in (ANY_SCOPE, PUBLIC):
            return True
        if needed is None or needed == NOT_FOR_TOKENS:
            raise TokenNotAllowed()
        if not token.has_scope(needed):
            raise TokenScopeMissing.for_scope(
                required=needed,
                granted=list(token.scopes),
                tokens_url=request.build_absolute_uri(reverse("tokens")),
            )
        return True
