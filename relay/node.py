"""A relay node: its live tunnels, their registry entries and their tokens' validity.

One live tunnel per device on a node: a new connection replaces the old one
(GOAWAY, then closed). Every ``REFRESH_INTERVAL_SECONDS`` the node refreshes its
tunnels' registry entries; every ``RECHECK_INTERVAL_SECONDS`` it asks the
database, in one query, which of its tunnels' tokens are still usable and closes
the others (revoked or expired token, unpaired device): within 5 s of the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from devices import tunnel_registry
from relay.auth import close_connections, in_thread, usable_tokens
from relay.h2_session import TunnelSession

logger = logging.getLogger(__name__)

REFRESH_INTERVAL_SECONDS = tunnel_registry.REFRESH_INTERVAL_SECONDS
REGISTRY_TTL_SECONDS = tunnel_registry.DEFAULT_TTL_SECONDS
RECHECK_INTERVAL_SECONDS = 2.0


class RelayNode:
    def __init__(self, *, node_url: str) -> None:
        self.node_url = node_url
        self.sessions: dict[str, TunnelSession] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Future[object]] = set()

    def keep(self, task: asyncio.Future[object]) -> None:
        """Hold a reference to a fire-and-forget task until it is done (asyncio keeps
        only weak ones)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(REFRESH_INTERVAL_SECONDS, self.refresh_registry)),
            asyncio.create_task(self._every(RECHECK_INTERVAL_SECONDS, self.recheck_tokens)),
        ]

    async def _register(self, session: TunnelSession) -> None:
        """Name this node as the holder of ``session``'s device, for every web instance."""
        await in_thread(
            tunnel_registry.register,
            device_id=session.device_id,
            node_url=self.node_url,
            connection_id=session.connection_id,
            ttl_seconds=REGISTRY_TTL_SECONDS,
        )

    async def serve_tunnel(self, session: TunnelSession) -> None:
        """Hold this tunnel until it closes; the device's previous one is replaced."""
        try:
            # Registered first: a tunnel this node lists is one web instances can find.
            await self._register(session)
        except Exception:
            logger.exception("registry write failed; closing the tunnel so the agent retries")
            await session.websocket.close(code=1011, reason="registry unavailable")
            return
        previous = self.sessions.get(session.device_id)
        self.sessions[session.device_id] = session
        if previous is not None:
            previous.close("replaced by a new connection of the same device")
        logger.info(
            "tunnel open",
            extra={"device_id": session.device_id, "connection_id": session.connection_id},
        )
        try:
            await session.run()
        finally:
            if self.sessions.get(session.device_id) is session:
                del self.sessions[session.device_id]
            with contextlib.suppress(Exception):
                await in_thread(
                    tunnel_registry.unregister,
                    device_id=session.device_id,
                    connection_id=session.connection_id,
                )
            logger.info(
                "tunnel closed",
                extra={
                    "device_id": session.device_id,
                    "connection_id": session.connection_id,
                    "why": session.close_reason or "the agent went away",
                },
            )

    async def refresh_registry(self) -> None:
        for session in list(self.sessions.values()):
            kept = await in_thread(
                tunnel_registry.refresh,
                device_id=session.device_id,
                connection_id=session.connection_id,
                ttl_seconds=REGISTRY_TTL_SECONDS,
            )
            if kept:
                continue
            current = await in_thread(tunnel_registry.lookup, session.device_id)
            if current is not None and current.connection_id != session.connection_id:
                # The agent connected again, elsewhere: this connection is stale.
                session.close("the device connected again elsewhere")
            else:
                # The entry expired (a registry outage): write it again.
                await self._register(session)

    async def recheck_tokens(self) -> None:
        sessions = list(self.sessions.values())
        if not sessions:
            return
        usable = await in_thread(usable_tokens, {session.token_hash for session in sessions})
        for session in sessions:
            if session.token_hash not in usable:
                session.close("token revoked or expired, or device unpaired")

    async def shutdown(self) -> None:
        """Close every tunnel and delete its registry entry (the agents reconnect elsewhere)."""
        for task in self._tasks:
            task.cancel()
        sessions = list(self.sessions.values())
        for session in sessions:
            session.close("relay node shutting down")
        for session in sessions:
            with contextlib.suppress(Exception):
                await in_thread(
                    tunnel_registry.unregister,
                    device_id=session.device_id,
                    connection_id=session.connection_id,
                )
        if sessions:
            await asyncio.wait(
                [asyncio.ensure_future(s.closed.wait()) for s in sessions], timeout=3
            )
        await asyncio.get_running_loop().run_in_executor(None, close_connections)

    async def _every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                # A registry or database outage must not stop the loop: the next round retries.
                logger.exception("relay node job %s failed", job.__name__)
