"""One upload in flight per user, across every worker and instance.

The converter takes five uploads at once and holds each in memory: one account
keeping several slow uploads open would make everyone else's fail with
``service_busy``. The one-job-per-user rule cannot help, since no job exists
until an upload ends. So each upload holds a lease in the Django cache (Redis
in production, shared by every worker and instance): taken atomically with
``cache.add`` before the first byte goes upstream, released when the upload ends.

The lease lives ``LEASE_SECONDS`` (10 s) unless renewed, and a thread of the holder
renews it every ``RENEW_EVERY_SECONDS`` for as long as the upload is held: while the
body streams, and while the converter takes its time to answer once it has it. A
worker that dies (killed, out of memory, its machine gone) renews nothing, so its
user can upload again within ``LEASE_SECONDS``. A renewal only touches a lease that
still holds its own token: a lapsed lease taken by another upload is left alone.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from redis.exceptions import RedisError

from conversion import errors
from visiona.models import User

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10
# Three renewals per lifetime: one late renewal (a busy machine) does not lose it.
RENEW_EVERY_SECONDS = 3.0


def _key(user: User) -> str:
    return f"conversion:upload-lease:{user.pk}"


class UploadLease:
    def __init__(self, key: str) -> None:
        self._key = key
        self._token = uuid.uuid4().hex
        self._released = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        if not cache.add(self._key, self._token, LEASE_SECONDS):
            return False
        self._renewer = threading.Thread(
            target=self._renew_until_released, name="upload-lease", daemon=True
        )
        self._renewer.start()
        return True

    def renew(self) -> None:
        if cache.get(self._key) == self._token:
            cache.touch(self._key, LEASE_SECONDS)
        else:
            cache.add(self._key, self._token, LEASE_SECONDS)  # lapsed: take it back if free

    def _renew_until_released(self) -> None:
        while not self._released.wait(RENEW_EVERY_SECONDS):
            try:
                self.renew()
            except Exception as exc:  # Redis away for a moment: the next renewal may do
                logger.warning("upload lease not renewed: %s", exc.__class__.__name__)

    def release(self) -> None:
        """Stop renewing and give the slot back. Never raises for the cache: the upload
        has been answered already (or is failing for its own reason, which must not be
        replaced by a cache error), and a lease left behind lapses within LEASE_SECONDS."""
        self._released.set()
        if self._renewer is not None:
            self._renewer.join(timeout=RENEW_EVERY_SECONDS)
        try:
            # Only our own: a lease that lapsed may belong to another upload now.
            if cache.get(self._key) == self._token:
                cache.delete(self._key)
        except RedisError as exc:
            logger.warning(
                "upload lease not released, it lapses by itself: %s", exc.__class__.__name__
            )


def upload_in_progress(*, user: User) -> bool:
    """Whether an upload of the user holds the slot now: what the next one would be
    refused for. Advice asked before an upload; the lease stays the authority."""
    return cache.get(_key(user)) is not None


@contextmanager
def upload_lease(*, user: User) -> Iterator[UploadLease]:
    """Hold the user's one upload slot, or raise ``UploadInProgress``."""
    lease = UploadLease(_key(user))
    if not lease.acquire():
        raise errors.UploadInProgress()
    try:
        yield lease
    finally:
        lease.release()
