"""The handshake's token checks: cached briefly, asked of the database in batches.

A reconnect storm brings thousands of handshakes in seconds. Each waits here
for its token's answer; one batch query at a time asks the database about all
the tokens waiting (up to ``BATCH``), so the database sees a few queries, not
one per agent. Answers are kept ``CACHE_SECONDS`` (usable) or
``REFUSED_CACHE_SECONDS`` (refused) for an agent that dials again.

A kept answer never outlives a revocation by more than one re-check: the node's
re-check (``RelayNode.recheck_tokens``: within 2 s of a change announced by
``devices.token_changes``, else once a minute) asks about the cached tokens together
with its live tunnels' and ``forget``s the unusable ones, so a revoked token's next
handshake is refused within 5 s, like its tunnel closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from devices import credentials, liveness
from relay.auth import OUTAGES, TunnelIdentity, in_thread, outage_reason

logger = logging.getLogger(__name__)

BATCH = 500
CACHE_SECONDS = 60.0
REFUSED_CACHE_SECONDS = 5.0
MAX_CACHED = 100_000


@dataclass
class _Answer:
    identity: TunnelIdentity | None
    until: float


class TokenChecker:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cache: OrderedDict[str, _Answer] = OrderedDict()
        self._waiting: dict[str, asyncio.Future[TunnelIdentity | None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="token-checks")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def identify(self, token: str) -> TunnelIdentity | None:
        """The tunnel identity of a usable token, else None. Raises when the database
        cannot answer (the handshake then says 503)."""
        if not credentials.device_token_looks_valid(token):
            return None
        token_hash = credentials.device_token_hash(token)
        answer = self._cache.get(token_hash)
        if answer is not None and answer.until > self._clock():
            return answer.identity
        future = self._waiting.get(token_hash)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[token_hash] = future
            self._wake.set()
        # Shielded: one handshake giving up must not cancel the others' shared answer.
        return await asyncio.shield(future)

    def cached_usable(self) -> set[str]:
        """The token hashes this cache would let through now (for the re-check)."""
        now = self._clock()
        return {
            key for key, answer in self._cache.items() if answer.identity and answer.until > now
        }

    def forget(self, token_hashes: set[str]) -> None:
        for token_hash in token_hashes:
            self._cache.pop(token_hash, None)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = dict(list(self._waiting.items())[:BATCH])
                for token_hash in batch:
                    del self._waiting[token_hash]
                await self._answer(batch)

    async def _answer(self, batch: dict[str, asyncio.Future[TunnelIdentity | None]]) -> None:
        try:
            usable = await in_thread(liveness.device_tokens_usable, token_hashes=list(batch))
        except Exception as exc:
            # A database outage is no bug: its reason in one line, not a traceback for
            # every batch of a reconnect storm. Anything else keeps its traceback.
            outage = isinstance(exc, OUTAGES)
            logger.warning(
                "token check failed: %s",
                f"database unavailable ({outage_reason(exc)})" if outage else "unexpected error",
                exc_info=not outage,
            )
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved here: a handshake that left is no error
            return
        now = self._clock()
        for token_hash, future in batch.items():
            device_id = usable.get(token_hash)
            identity = (
                TunnelIdentity(device_id=device_id, token_hash=token_hash) if device_id else None
            )
            self._remember(token_hash, identity, now)
            if not future.done():
                future.set_result(identity)

    def _remember(self, token_hash: str, identity: TunnelIdentity | None, now: float) -> None:
        lifetime = CACHE_SECONDS if identity else REFUSED_CACHE_SECONDS
        self._cache[token_hash] = _Answer(identity=identity, until=now + lifetime)
        self._cache.move_to_end(token_hash)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
