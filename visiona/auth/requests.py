"""The request a signed-in page sees, for type checking.

``@login_required`` turns anonymous visitors away before the view runs, so there
``request.user`` is a ``User``; Django's ``HttpRequest`` cannot know that and types it
as ``User | AnonymousUser``. Views behind the decorator annotate their request with
this class instead (it is never instantiated: Django passes its own request).
"""

from __future__ import annotations

from django.http import HttpRequest

from visiona.models import User


class SignedInRequest(HttpRequest):
    user: User
