"""One upload in flight per user, across every worker and instance.

The converter takes five uploads at once and holds each in memory: one account
keeping several slow uploads open would make everyone else's fail with
``service_busy``. The one-job-per-user rule cannot help, since no job exists
until an upload ends. So each upload holds a lease in the Django cache (Redis
in production, shared by every worker and instance): taken atomically with
``cache.add`` before the first byte goes upstream, renewed while the body
streams, released when the upload ends. A worker that dies mid-upload leaves
a lease that expires on its own within ``LEASE_SECONDS``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.cache import cache

from conversion import errors
from visiona.models import User

LEASE_SECONDS = 60
# Renewed this often while bytes flow, so a slow upload never outlives it.
RENEW_EVERY_SECONDS = 15


def _key(user: User) -> str:
    return f"conversion:upload-lease:{user.pk}"


class UploadLease:
    def __init__(self, key: str) -> None:
        self._key = key
        self._token = uuid.uuid4().hex
        self._renewed = time.monotonic()

    def acquire(self) -> bool:
        return cache.add(self._key, self._token, LEASE_SECONDS)

    def keep_alive(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks`` as they are, renewing the lease as they pass."""
        for chunk in chunks:
            if time.monotonic() - self._renewed >= RENEW_EVERY_SECONDS:
                self.renew()
            yield chunk

    def renew(self) -> None:
        self._renewed = time.monotonic()
        if cache.get(self._key) == self._token:
            cache.touch(self._key, LEASE_SECONDS)
        else:
            cache.add(self._key, self._token, LEASE_SECONDS)  # lapsed: take it back if free

    def release(self) -> None:
        # Only our own: a lease that lapsed may belong to another upload now.
        if cache.get(self._key) == self._token:
            cache.delete(self._key)


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
