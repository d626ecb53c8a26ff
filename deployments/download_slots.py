"""At most DEPLOYMENT_DOWNLOADS_PER_DEVICE downloads the app streams itself per device,
across every worker and instance (the cache: Redis in production).

Only where nginx does not send the file (``make run``, an nginx without the models
folder): each download the app streams holds a web thread. A device past its share gets
429 ``too_many_downloads`` with ``Retry-After`` at once; its agent waits and asks again.
Each download holds one of the device's numbered leases (``cache.add``: atomic), renewed
while bytes flow and released when the answer is closed; a worker that dies leaves a
lease that runs out within LEASE_SECONDS.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache

from deployments.errors import TooManyDownloads

LEASE_SECONDS = 60
RENEW_EVERY_SECONDS = 15
RETRY_AFTER_SECONDS = 5


class DownloadSlot:
    def __init__(self, key: str) -> None:
        self.key = key
        self.token = uuid.uuid4().hex
        self._renewed = time.monotonic()

    def keep(self, chunks: Iterator[bytes]) -> KeptChunks:
        """``chunks`` as they are, the lease renewed as they pass and released at close."""
        return KeptChunks(self, chunks)

    def renew_if_due(self) -> None:
        if time.monotonic() - self._renewed < RENEW_EVERY_SECONDS:
            return
        self._renewed = time.monotonic()
        if cache.get(self.key) == self.token:
            cache.touch(self.key, LEASE_SECONDS)
        else:
            cache.add(self.key, self.token, LEASE_SECONDS)  # lapsed: take it back if free

    def release(self) -> None:
        # Only our own: a lease that lapsed may belong to another download now.
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


class KeptChunks:
    """An iterator with ``close()``: Django closes a streamed answer's content whether
    or not it was read, so the lease is released even for an answer never sent."""

    def __init__(self, slot: DownloadSlot, chunks: Iterator[bytes]) -> None:
        self._slot = slot
        self._chunks = chunks

    def __iter__(self) -> KeptChunks:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._slot.renew_if_due()
        return chunk

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._slot.release()


def take(*, device_id: str) -> DownloadSlot:
    """One of the device's download leases, or ``TooManyDownloads``."""
    for number in range(settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE):
        slot = DownloadSlot(f"deployments:download:{device_id}:{number}")
        if cache.add(slot.key, slot.token, LEASE_SECONDS):
            return slot
    raise TooManyDownloads(
        details={"limit": settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
