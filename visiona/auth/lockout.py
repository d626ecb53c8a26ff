"""Sign-in lockout (django-axes): what is counted, and what a locked-out visitor sees.

Failures count per (account, client address) and, separately, per client
address; either one past AXES_FAILURE_LIMIT locks out every sign-in it covers
until the cool-off ends. Never per account alone: a stranger guessing from their
own address would lock the account's owner out everywhere. The answer never says
which one, nor whether the account exists.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_parameters(
    request: HttpRequest, credentials: dict | None = None
) -> list[str | list[str]]:
    """Per (account, client) and per client; per client only when no account is named.

    A nested list is one counter over both values (django-axes); the strings beside
    it are counters of their own. axes has one limit for all of them, so today the
    address's counter reaches it no later than the pair's; the pair is what would
    still guard an account if a shared address (an office) got a higher limit of its
    own, which axes could only do with a handler of ours.

    An OIDC callback that fails names no account: counting it under the
    username ``None`` would add up every such failure everywhere and lock all
    Member Center sign-ins at once.
    """
    if credentials and credentials.get("username"):
        return [["username", "ip_address"], "ip_address"]
    return ["ip_address"]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with the sign-in page's look, for the site's and Django admin's sign-in alike."""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    if cool_off:
        response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response
