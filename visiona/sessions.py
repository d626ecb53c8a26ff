"""Server-side sessions: fail closed when the store is down; idle and absolute limits.

Used as SESSION_ENGINE when Redis is configured (the module must define
``SessionStore``). The two middlewares apply to every session engine.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends import cache as cache_backend
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.dispatch import receiver
from django.utils import translation
from redis.exceptions import RedisError

from visiona.errors import SessionStoreUnavailable, error_response

logger = logging.getLogger(__name__)

SIGNED_IN_AT_KEY = "_visiona_signed_in_at"


class SessionStore(cache_backend.SessionStore):
    """Django's cache session store, except an unreachable store is an error.

    Django's store treats any cache error on load as "no session", which would
    quietly sign everyone out and let writes fail later with a 500.
    """

    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except RedisError as exc:
            raise SessionStoreUnavailable() from exc
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    def _guard(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except RedisError as exc:
            raise SessionStoreUnavailable() from exc

    def save(self, must_create: bool = False) -> None:
        self._guard(super().save, must_create)

    def create(self) -> None:
        self._guard(super().create)

    def exists(self, session_key) -> bool:
        return self._guard(super().exists, session_key)

    def delete(self, session_key=None) -> None:
        self._guard(super().delete, session_key)


class SessionMiddleware(DjangoSessionMiddleware):
    """Answers 503 instead of a stack trace when the session store is down."""

    def __call__(self, request):
        try:
            return super().__call__(request)
        except SessionStoreUnavailable as exc:
            logger.error("session store unavailable", exc_info=exc.__cause__)
            request.session = self.SessionStore()  # an empty one, for the error page
            # LocaleMiddleware comes later and has not run: the page still speaks the
            # visitor's language (cookie or Accept-Language; no session needed).
            with translation.override(translation.get_language_from_request(request)):
                return error_response(request, exc)

    def process_request(self, request):
        super().process_request(request)
        # Load now, inside __call__'s guard, instead of lazily in a later middleware
        # where an outage would surface as a generic 500.
        if request.session.session_key is not None:
            request.session.get(SIGNED_IN_AT_KEY)


@receiver(user_logged_in)
def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_KEY] = time.time()


class SessionLifetimeMiddleware:
    """Ends a session after ``SESSION_IDLE_TIMEOUT`` without requests, or
    ``SESSION_ABSOLUTE_LIFETIME`` after sign-in, whichever comes first.

    The expiry is set on every request, so the store's TTL (Redis) or
    expire_date (database) follows by itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
        if signed_in_at is not None:
            # Exact times: whole seconds on both sides cut up to a second off the lifetime.
            remaining = signed_in_at + settings.SESSION_ABSOLUTE_LIFETIME - time.time()
            if remaining <= 0:
                logout(request)
            else:
                request.session.set_expiry(min(settings.SESSION_IDLE_TIMEOUT, math.ceil(remaining)))
        elif request.user.is_authenticated:
            # Signed in before the stamp existed (or by a test client): start the clock now.
            request.session[SIGNED_IN_AT_KEY] = time.time()
            request.session.set_expiry(settings.SESSION_IDLE_TIMEOUT)
        return self.get_response(request)
