"""What an API operation needs from a personal API token: its scope.

Every /api/ view declares, for each method it serves, one of:

- a ``Scope``: a token must carry it (a session may do everything);
- ``ANY_SCOPE``: any valid token (e.g. who am I);
- ``NOT_FOR_TOKENS``: personal tokens are refused (managing tokens, the agent API,
  whose credential is a device token);
- ``PUBLIC``: no credential at all.

as ``token_scope = Scope.READ`` (every method) or ``token_scope = {"get": Scope.READ,
"post": Scope.CONVERT}``. HEAD follows GET and OPTIONS needs READ, unless the dict
names "options" (a relayed OPTIONS reaches a device: a request, not metadata). The
vocabulary lives here, in core, because every app (and core's own views) declares it; the
tokens app enforces it (tokens/permissions.py) and a test walks every /api/ route to
check each one declares (tests/tokens/test_scope_declarations.py).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Scope(models.TextChoices):
    READ = "read", _("Read: conversions, models, devices")
    CONVERT = "convert", _("Convert: start conversions, change My models")
    DEPLOY = "deploy", _("Deploy: send models to devices, manage devices")


# A scope's name where a sentence or a list names it, in the reader's language; the API
# and the CLI name it by its value ("deploy").
SCOPE_NAMES = {
    Scope.READ.value: pgettext_lazy("token scope", "read"),
    Scope.CONVERT.value: pgettext_lazy("token scope", "convert"),
    Scope.DEPLOY.value: pgettext_lazy("token scope", "deploy"),
}


def scope_name(scope: str) -> str:
    """``scope`` ("deploy") in the reader's language; an unknown one as it is."""
    return str(SCOPE_NAMES.get(scope, scope))


ANY_SCOPE = "any"
NOT_FOR_TOKENS = "not-for-tokens"
PUBLIC = "public"
MARKERS = frozenset({ANY_SCOPE, NOT_FOR_TOKENS, PUBLIC})


def declared_scope(view, method: str) -> str | None:
    """What ``view`` (a class or an instance) declares for ``method``, or None."""
    declared = getattr(view, "token_scope", None)
    if declared is None:
        return None
    values = declared if isinstance(declared, dict) else {"*": declared}
    method = method.lower()
    if method == "options" and "options" in values:
        # A view whose OPTIONS does more than describe it (a relayed request) says so.
        return str(values["options"])
    if method == "options":
        # Metadata only: READ, unless tokens may use none of the view's methods.
        if all(str(value) == NOT_FOR_TOKENS for value in values.values()):
            return NOT_FOR_TOKENS
        return Scope.READ.value
    if method == "head":
        method = "get"
    value = values.get(method, values.get("*"))
    return None if value is None else str(value)
