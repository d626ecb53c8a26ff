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
# When the store drops the session (the sooner of idle and absolute), as last set.
EXPIRES_AT_KEY = "_visiona_expires_at"
# How far a request must move the idle deadline before the session is rewritten.
IDLE_REFRESH_FRACTION = 0.1


class SessionStore(cache_backend.SessionStore):
    """Django's cache session store, except an unreachable store is an error.

    Django's store treats any cache error on load as "no session", which would
    quietly sign everyone out and let writes fail later with a 500.
    """

    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)  # type: ignore[attr-defined]
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


def start_session_clock(session, now: float) -> None:
    """Stamps the sign-in and sets the expiry: the idle limit holds from this moment."""
    session[SIGNED_IN_AT_KEY] = now
    _push_expiry(session, now, now)


def _deadline(signed_in_at: float, now: float) -> float:
    return min(
        now + settings.SESSION_IDLE_TIMEOUT, signed_in_at + settings.SESSION_ABSOLUTE_LIFETIME
    )


def _push_expiry(session, signed_in_at: float, now: float) -> None:
    deadline = _deadline(signed_in_at, now)
    session[EXPIRES_AT_KEY] = deadline
    # Seconds from the save, rounded up: whole seconds would cut up to one off.
    session.set_expiry(max(1, math.ceil(deadline - now)))


@receiver(user_logged_in)
def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        start_session_clock(request.session, time.time())


class SessionLifetimeMiddleware:
    """Ends a session after ``SESSION_IDLE_TIMEOUT`` without requests, or
    ``SESSION_ABSOLUTE_LIFETIME`` after sign-in, whichever comes first.

    The session's expiry is the sooner of the two deadlines, set at sign-in, so
    the store's TTL (Redis) or expire_date (database) ends it by itself. Requests
    push the idle deadline back, but only when it would move by at least
    ``IDLE_REFRESH_FRACTION`` of the idle timeout: a polling page does not rewrite
    the session every time. So an idle session may end up to that fraction early
    (12 minutes of the default 2 hours), never late; the absolute lifetime is exact.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        signed_in_at = session.get(SIGNED_IN_AT_KEY)
        now = time.time()
        if signed_in_at is not None:
            expires_at = session.get(EXPIRES_AT_KEY)  # None: kept from before this key
            absolute_end = signed_in_at + settings.SESSION_ABSOLUTE_LIFETIME
            if now >= absolute_end or (expires_at is not None and now >= expires_at):
                # The store ends it too; checked here so both limits hold to the moment.
                logout(request)
            elif expires_at is None or abs(_deadline(signed_in_at, now) - expires_at) >= (
                settings.SESSION_IDLE_TIMEOUT * IDLE_REFRESH_FRACTION
            ):
                # Either way: a shorter limit after a deploy takes effect too.
                _push_expiry(session, signed_in_at, now)
        elif request.user.is_authenticated:
            # Signed in before the stamp existed: start the clock now.
            start_session_clock(session, now)
        return self.get_response(request)
