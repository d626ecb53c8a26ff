"""A relay node: its live tunnels, its registry lease, its devices' liveness.

One live tunnel per device on a node: a new connection replaces the old one
(GOAWAY, then closed). What the node keeps up, each as a loop of its own:

- its registry lease (``devices.tunnel_registry``), renewed every
  ``LEASE_RENEW_SECONDS``: one write per node, whatever its number of tunnels;
  the tunnels' entries are written once when they open and deleted when they
  close, in batches (``relay.batching``);
- the tokens' validity: every ``RECHECK_INTERVAL_SECONDS`` it reads the shared stamp
  of token changes (``devices.token_changes``); when it moved, and once a minute in
  any case, one query for all its tunnels' tokens (and the handshake cache's) closes
  the tunnels whose token was revoked or expired or whose device was unpaired: within
  5 s of a change made through the app, within a minute of one made behind its back;
- its devices' durable ``last_seen_at`` (``relay.last_seen``): on open and close,
  and coarsely while open, batched;
- dead nodes: every ``SWEEP_INTERVAL_SECONDS`` it clears what nodes whose lease
  ran out left in the registry, and writes their devices' ``last_seen_at``;
- work waiting: devices that just connected are asked about in batches
  (``devices.registry.devices_with_work``) and nudged through their tunnel when they
  have some.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.utils import timezone

from devices import liveness, registry, token_changes, tunnel_registry
from relay.admission import Admission
from relay.auth import OUTAGES, close_connections, in_thread, outage_reason
from relay.batching import Batcher
from relay.h2_session import TunnelSession, silence_seconds
from relay.last_seen import FLUSH_SECONDS, LastSeenSchedule
from relay.relay_stream import StreamFailed
from relay.token_checks import TokenChecker

logger = logging.getLogger(__name__)

LEASE_RENEW_SECONDS = tunnel_registry.LEASE_RENEW_SECONDS
# A registry not answering at start is asked again after this, then twice as long each
# time, up to LEASE_RENEW_SECONDS.
LEASE_RETRY_FIRST_SECONDS = 0.5
SWEEP_INTERVAL_SECONDS = tunnel_registry.LEASE_TTL_SECONDS
RECHECK_INTERVAL_SECONDS = 2.0
# Every tunnel's liveness in one pass (h2_session.TunnelSession.check_liveness).
LIVENESS_CHECK_SECONDS = 5.0
WORK_CHECK_SECONDS = 1.0
NUDGE_TIMEOUT_SECONDS = 5.0
_CHUNK = 1000


class RelayNode:
    def __init__(self, *, node_url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.node_url = node_url
        self._clock = clock  # the token re-check's, a test's to move
        self.lease = tunnel_registry.NodeLease.new(node_url)
        self.sessions: dict[str, TunnelSession] = {}
        self.tokens = TokenChecker()
        self.admission = Admission(rate=settings.RELAY_HANDSHAKES_PER_SECOND)
        self.last_seen = LastSeenSchedule(interval=settings.RELAY_LAST_SEEN_WRITE_SECONDS)
        # The token re-check asks the database when this stamp moves (or is unknown),
        # else once a minute (devices/token_changes.py).
        self._token_stamp: str | None = None
        self._full_recheck_due = 0.0
        self.agent_ping_seconds = settings.RELAY_AGENT_PING_SECONDS
        self.silence_seconds = silence_seconds(self.agent_ping_seconds)
        self._registrations = Batcher(self._register, name="registry-register")
        self._removals = Batcher(self._unregister, name="registry-unregister")
        self._just_connected: list[TunnelSession] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Future[object]] = set()
        self._stopping = False
        # True once the lease is held and the loops run: the node can take tunnels.
        self.started = False

    def keep(self, task: asyncio.Future[object]) -> None:
        """Hold a reference to a fire-and-forget task until it is done (asyncio keeps
        only weak ones)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        """Take the node's lease (before any tunnel is accepted) and start its loops.

        A registry that does not answer yet (Redis restarting, a node started first) is
        waited for, not a crash: the probes answer meanwhile (/livez up, /readyz not).
        """
        await self._take_lease()
        self.tokens.start()
        self._registrations.start()
        self._removals.start()
        self._tasks = [
            asyncio.create_task(self._every(LEASE_RENEW_SECONDS, self.renew_lease)),
            asyncio.create_task(self._every(RECHECK_INTERVAL_SECONDS, self.recheck_tokens)),
            asyncio.create_task(self._every(FLUSH_SECONDS, self.write_last_seen)),
            asyncio.create_task(self._every(SWEEP_INTERVAL_SECONDS, self.sweep_dead_nodes)),
            asyncio.create_task(self._every(WORK_CHECK_SECONDS, self.push_waiting_work)),
            asyncio.create_task(self._every(LIVENESS_CHECK_SECONDS, self.check_liveness)),
        ]
        self.started = True

    async def _take_lease(self) -> None:
        delay = LEASE_RETRY_FIRST_SECONDS
        while True:
            try:
                await in_thread(tunnel_registry.lease_acquire, self.lease)
                return
            except Exception as exc:
                # The driver's message names the address, never a password.
                logger.warning(
                    "the registry does not answer (%s); the node takes no tunnels yet, "
                    "retrying in %.1f s",
                    type(exc).__name__,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, LEASE_RENEW_SECONDS)

    # Tunnels ------------------------------------------------------------------------

    def _register(self, connections: list[tuple[str, str]]) -> None:
        tunnel_registry.register_many(lease=self.lease, connections=connections)

    def _unregister(self, connections: list[tuple[str, str]]) -> None:
        tunnel_registry.unregister_many(lease=self.lease, connections=connections)

    async def serve_tunnel(self, session: TunnelSession) -> None:
        """Hold this tunnel until it closes; the device's previous one is replaced."""
        try:
            # Registered first: a tunnel this node lists is one web instances can find.
            await self._registrations.add((session.device_id, session.connection_id))
        except Exception:
            logger.warning("registry write failed; closing the tunnel so the agent retries")
            await session.websocket.close(code=1011, reason="registry unavailable")
            return
        previous = self.sessions.get(session.device_id)
        self.sessions[session.device_id] = session
        if previous is not None:
            previous.close("replaced by a new connection of the same device")
        self.last_seen.opened(session.device_id)
        self._just_connected.append(session)
        logger.info(
            "tunnel open",
            extra={"device_id": session.device_id, "connection_id": session.connection_id},
        )
        try:
            await session.run()
        finally:
            if self.sessions.get(session.device_id) is session:
                del self.sessions[session.device_id]
                self.last_seen.closed(session.device_id)
            if not self._stopping:
                # Compare-and-delete: a successor's entry (here or elsewhere) stays.
                self._removals.add((session.device_id, session.connection_id))
            logger.info(
                "tunnel closed",
                extra={
                    "device_id": session.device_id,
                    "connection_id": session.connection_id,
                    "why": session.close_reason or "the agent went away",
                },
            )

    # The loops ------------------------------------------------------------------------

    async def renew_lease(self) -> None:
        if await in_thread(tunnel_registry.lease_renew, self.lease):
            return
        # Lost (a registry outage, or this node stalled past the TTL): take it back and
        # write back each entry still ours; a device that connected elsewhere meanwhile
        # keeps its new tunnel, and this one closes.
        logger.warning(
            "relay node lease lost; taking it back", extra={"tunnels": len(self.sessions)}
        )
        await in_thread(tunnel_registry.lease_acquire, self.lease)
        sessions = list(self.sessions.values())
        lost = await in_thread(
            tunnel_registry.reclaim_many,
            lease=self.lease,
            connections=[(s.device_id, s.connection_id) for s in sessions],
        )
        for device_id in lost:
            session = self.sessions.get(device_id)
            if session is not None:
                session.close("the device connected again elsewhere")

    async def check_liveness(self) -> None:
        now = time.monotonic()
        heard_since = now - self.silence_seconds
        for session in list(self.sessions.values()):
            # The common case in one comparison each: heard from lately, no PING due.
            heard = getattr(session.websocket, "last_heard", now)  # TunnelConnection's
            if heard >= heard_since and now < session.liveness_due:
                continue
            session.check_liveness(now, self.silence_seconds)

    async def recheck_tokens(self) -> None:
        # The stamp before the snapshot: a change announced after this read is seen
        # at the next round, whatever this one's query found.
        stamp = await in_thread(token_changes.current)
        now = self._clock()
        if stamp is not None and stamp == self._token_stamp and now < self._full_recheck_due:
            return  # nothing made a token unusable through the app since the last check
        sessions = list(self.sessions.values())
        cached = self.tokens.cached_usable()
        token_hashes = {session.token_hash for session in sessions} | cached
        if token_hashes:
            unusable = await in_thread(liveness.device_tokens_unusable, token_hashes=token_hashes)
        else:
            unusable = set()
        self._token_stamp = stamp
        self._full_recheck_due = now + token_changes.FULL_RECHECK_SECONDS
        for session in sessions:
            if session.token_hash in unusable:
                session.close("token revoked or expired, or device unpaired")
        # The handshake cache forgets them too: their next handshake is refused.
        self.tokens.forget(unusable)

    async def write_last_seen(self) -> None:
        device_ids = self.last_seen.take()
        if not device_ids:
            return
        try:
            await in_thread(liveness.devices_mark_seen, device_ids=device_ids, at=timezone.now())
        except Exception:
            self.last_seen.give_back(device_ids)
            raise

    async def sweep_dead_nodes(self) -> None:
        for dead in await in_thread(tunnel_registry.sweep_dead_nodes):
            logger.info(
                "swept a dead relay node",
                extra={"node_id": dead.node_id, "devices": len(dead.device_ids)},
            )
            if dead.last_renewed_at and dead.device_ids:
                await in_thread(
                    liveness.devices_mark_last_alive,
                    device_ids=dead.device_ids,
                    at=dead.last_renewed_at,
                )

    async def push_waiting_work(self) -> None:
        sessions, self._just_connected = self._just_connected, []
        sessions = [s for s in sessions if not s.close_reason and not s.closed.is_set()]
        for start in range(0, len(sessions), _CHUNK):
            chunk = sessions[start : start + _CHUNK]
            nudges = await in_thread(registry.devices_with_work, [s.device_id for s in chunk])
            for session in chunk:
                for path in nudges.get(session.device_id, []):
                    self.keep(asyncio.create_task(_nudge(session, path)))

    # Stopping -------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """End the lease (web instances see the devices offline at once), close every
        tunnel (the agents reconnect elsewhere) and write their ``last_seen_at``."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        self.tokens.stop()
        self._registrations.stop()
        self._removals.stop()
        sessions = list(self.sessions.values())
        with contextlib.suppress(Exception):
            await in_thread(tunnel_registry.lease_release, self.lease)
        for session in sessions:
            session.close("relay node shutting down")
        with contextlib.suppress(Exception):
            await in_thread(
                liveness.devices_mark_seen,
                device_ids=[session.device_id for session in sessions],
                at=timezone.now(),
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
            except OUTAGES as exc:
                # A registry or database outage must not stop the loop: the next round
                # retries. Said in a line each round, not a traceback.
                logger.warning("relay node job %s failed: %s", job.__name__, outage_reason(exc))
            except Exception:
                logger.exception("relay node job %s failed", job.__name__)


async def _nudge(session: TunnelSession, path: str) -> None:
    """``POST <path>`` through the tunnel; the agent answers 202 at once."""
    headers = [
        (b":method", b"POST"),
        (b":path", path.encode()),
        (b":scheme", b"http"),
        (b":authority", b"device"),
        (b"content-length", b"0"),
    ]
    stream = None
    try:
        stream = await session.open_stream(headers, end_stream=True)
        await asyncio.wait_for(asyncio.shield(stream.headers), NUDGE_TIMEOUT_SECONDS)
        while (chunk := await asyncio.wait_for(stream.read(), NUDGE_TIMEOUT_SECONDS)) is not None:
            stream.release(chunk[1])
    except (StreamFailed, TimeoutError) as exc:
        logger.info("work nudge failed", extra={"device_id": session.device_id, "why": str(exc)})
        if stream is not None:
            stream.cancel()
