"""At most DEPLOYMENT_DOWNLOADS_PER_DEVICE downloads the app streams itself per device,
across every worker and instance (the cache: Redis in production).

Only where nginx does not send the file (``make run``, an nginx without the models
folder): each download the app streams holds a web thread. A device past its share gets
429 ``too_many_downloads`` with ``Retry-After`` at once; its agent waits and asks again.

Each download holds one of the device's numbered leases (``cache.add``: atomic), released
when the answer is closed. As the upload lease (conversion/upload_lease.py), a lease lives
LEASE_SECONDS (10 s) unless renewed, and a thread of the holder renews it every
RENEW_EVERY_SECONDS for as long as the answer is open: while bytes flow, and while a slow
agent reads none (its thread blocked in a send renews nothing itself). A web process that
dies mid-download (killed, out of memory) renews nothing, so its place is free again
within LEASE_SECONDS, not at the end of a long lifetime.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from deployments.errors import TooManyDownloads

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10
# Three renewals per lifetime: one late renewal (a busy machine) does not lose it.
RENEW_EVERY_SECONDS = 3.0
RETRY_AFTER_SECONDS = 5


class DownloadSlot:
    def __init__(self, key: str) -> None:
        self.key = key
        self.token = uuid.uuid4().hex
        self._released = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        if not cache.add(self.key, self.token, LEASE_SECONDS):
            return False
        self._renewer = threading.Thread(
            target=self._renew_until_released, name="download-slot", daemon=True
        )
        self._renewer.start()
        return True

    def keep(self, chunks: Iterator[bytes]) -> KeptChunks:
        """``chunks`` as they are, the lease released when the answer is closed."""
        return KeptChunks(self, chunks)

    def renew(self) -> None:
        if cache.get(self.key) == self.token:
            cache.touch(self.key, LEASE_SECONDS)
        else:
            cache.add(self.key, self.token, LEASE_SECONDS)  # lapsed: take it back if free

    def _renew_until_released(self) -> None:
        while not self._released.wait(RENEW_EVERY_SECONDS):
            try:
                self.renew()
            except Exception as exc:  # Redis away for a moment: the next renewal may do
                logger.warning("download slot not renewed: %s", exc.__class__.__name__)

    def release(self) -> None:
        """Stop renewing and give the place back; never raises for the cache: the answer
        is being closed, and a lease left behind lapses within LEASE_SECONDS anyway."""
        if self._released.is_set():
            return
        self._released.set()
        if self._renewer is not None:
            self._renewer.join(timeout=RENEW_EVERY_SECONDS)
        try:
            # Only our own: a lease that lapsed may belong to another download now.
            if cache.get(self.key) == self.token:
                cache.delete(self.key)
        except RedisError as exc:
            logger.warning(
                "download slot not released, it lapses by itself: %s", exc.__class__.__name__
            )


class KeptChunks:
    """An iterator with ``close()``: Django closes a streamed answer's content whether
    or not it was read, so the lease is released even for an answer never sent."""

    def __init__(self, slot: DownloadSlot, chunks: Iterator[bytes]) -> None:
        self._slot = slot
        self._chunks = chunks

    def __iter__(self) -> KeptChunks:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

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
        slot = DownloadSlot(slot_key(device_id, number))
        if slot.acquire():
            return slot
    raise TooManyDownloads(
        details={"limit": settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def slot_key(device_id: str, number: int) -> str:
    return f"deployments:download:{device_id}:{number}"
