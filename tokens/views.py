"""The API tokens page: create (the secret is shown on the answer to that POST only),
list, revoke. Signed-in session only, like every page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tokens import selectors, services
from tokens.errors import TooManyTokens
from tokens.forms import TokenCreateForm


def _render(request, form, *, issued=None, status=200):
    context = {
        "form": form,
        "tokens": selectors.token_list_for_user(user=request.user),
        "issued": issued,
        "server_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "tokens/list.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    if request.method == "GET":
        return _render(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        issued = services.token_create(owner=request.user, **form.cleaned_data)
    except TooManyTokens as exc:
        messages.error(request, exc.message)
        return _render(request, form, status=exc.status)
    # Rendered, not redirected: the secret must not survive in a URL or a session.
    return _render(request, TokenCreateForm(), issued=issued)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request, token_id: uuid.UUID):
    """GET asks first (a revoked token cannot come back); POST revokes."""
    token = selectors.token_get_for_user(user=request.user, token_id=token_id)
    if request.method == "GET":
        return render(request, "tokens/revoke.html", {"token": token})
    services.token_revoke(token=token, by=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens")
