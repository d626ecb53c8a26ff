"""Registry and database writes from the event loop, in batches, one at a time.

A relay node's writes come in bursts (a reconnect storm opens thousands of
tunnels in seconds). Each one queued here is written with the others waiting
at that moment, up to ``size`` per call, by one worker-thread call at a time:
the store sees a few round trips, never one per tunnel, and never more than
one at once from this node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from relay.auth import in_thread

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, write: Callable[[list[T]], object], *, size: int = 500, name: str) -> None:
        self._write = write
        self._size = size
        self._name = name
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"batch-{self._name}")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def add(self, item: T) -> asyncio.Future[None]:
        """Queue one item; the future says when its batch was written (or why not)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return future

    async def flush(self, items: list[T]) -> None:
        """Write these now, beside the queue (at shutdown, when no loop runs it)."""
        for start in range(0, len(items), self._size):
            await in_thread(self._write, items[start : start + self._size])

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[: self._size], self._queue[self._size :]
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await in_thread(self._write, [item for item, _future in batch])
        except Exception as exc:
            logger.warning("%s: a batch of %d failed", self._name, len(batch), exc_info=True)
            for _item, future in batch:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: nobody may be waiting
            return
        for _item, future in batch:
            if not future.done():
                future.set_result(None)
