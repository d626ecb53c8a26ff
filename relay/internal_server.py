"""The internal port: web instances, and nginx with a grant, reach devices through it.

HTTP/1.1, parsed by ``h11`` (the python-hyper state machine, twin of ``h2``):

- ``<METHOD> /devices/<device_id>/<path>?<query>`` relays the request as one
  stream of that device's tunnel (relay/exchange.py), both bodies streamed;
- ``GET /sessions`` lists this node's live tunnels (the secret only);
- ``GET /livez`` and ``GET /readyz``: the node's probes (``relay/health.py``), no secret.

Two callers (relay/answers.py): a web instance with ``X-Relay-Secret`` (the
streamed path; errors as ``X-Relay-Error`` envelopes), or nginx with
``X-Relay-Grant`` (``X-Visiona-Offload: relay``): a grant Django signed for this one
method and target (devices/relay_grant.py), used once; the answer then goes to the
user's client as it is, and this node holds the grant's slot of the caps until the
exchange ends. Anything else gets a bare 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
import uuid
from typing import Any
from urllib.parse import SplitResult, urlsplit

import h11

from devices import relay_slots
from devices.relay_client import SECRET_HEADER
from devices.relay_grant import GRANT_HEADER, GRANT_MAX_AGE_SECONDS, Grant, grant_verify
from relay import health
from relay.answers import UserCaller, WebCaller
from relay.batching import Batcher
from relay.exchange import Exchange, Limits
from relay.http_connection import ConnectionAborted, HttpConnection
from relay.node import RelayNode
from visiona.log import request_id_var

logger = logging.getLogger(__name__)

_SECRET_HEADER = SECRET_HEADER.lower().encode()
_GRANT_HEADER = GRANT_HEADER.lower().encode()


class InternalServer:
    def __init__(self, node: RelayNode, *, secret: str, limits: Limits) -> None:
        if not secret:
            raise ValueError("the internal port needs RELAY_INTERNAL_SECRET")
        self.node = node
        self._secret = secret.encode()
        self.limits = limits
        self._used_grants: dict[str, float] = {}  # slot id -> when it may be forgotten
        self._releases: Batcher[relay_slots.Slot] | None = None  # started on first use
        # Each open connection's handler and writer, for ``close_connections``.
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._serve_connection, host, port)

    async def close_connections(self, *, grace_seconds: float = 1.0) -> None:
        """End every open connection, the listener already closed and the tunnels gone.

        What the tunnels' closing failed is answered within ``grace_seconds``; a caller
        that reads none of an answer cut short (its send blocked) or waits idle on a
        kept-alive connection is then cut off. Not left to ``asyncio.run``: it would wait
        on such a caller for ever, then (Python 3.11) log the cancelled handler as an
        error with its traceback.
        """
        if not self._connections:
            return
        await asyncio.wait(list(self._connections), timeout=grace_seconds)
        left = dict(self._connections)
        for writer in left.values():
            writer.transport.abort()  # a blocked send then fails at once (ConnectionError)
        if left:
            await asyncio.wait(list(left), timeout=3)

    # Connection -------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        client = HttpConnection(reader, writer)
        handler = asyncio.current_task()  # start_server runs each connection in a task
        if handler is not None:
            self._connections[handler] = writer
        try:
            while True:
                event = await client.next_event()
                if not isinstance(event, h11.Request):
                    break
                await self._request(client, event)
                if client.conn.our_state is h11.DONE and client.request_complete():
                    client.conn.start_next_cycle()  # keep-alive: the next request
                else:
                    break
        except (
            ConnectionAborted,
            h11.ProtocolError,
            ConnectionError,
            asyncio.IncompleteReadError,
        ) as exc:
            logger.debug("internal connection closed: %r", exc)
        finally:
            if client.aborted:
                writer.transport.abort()
            else:
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if handler is not None:
                self._connections.pop(handler, None)

    async def _request(self, client: HttpConnection, request: h11.Request) -> None:
        headers = {name.lower(): value for name, value in request.headers}
        target = urlsplit(request.target.decode("latin-1"))
        if request.method == b"GET" and target.path in health.PATHS:
            # Probes carry no secret; they tell whether the node is up, nothing more.
            status, payload = await health.probe(target.path, started=self.node.started)
            await client.send_json(status, payload, [(b"cache-control", b"no-store")])
            return
        parts = target.path.split("/", 3)
        relayed = len(parts) >= 3 and parts[0] == "" and parts[1] == "devices"
        grant_value = headers.get(_GRANT_HEADER)
        if grant_value is not None and relayed:
            await self._granted(client, request, grant_value.decode("latin-1"), parts, target)
            return
        if not hmac.compare_digest(headers.get(_SECRET_HEADER, b""), self._secret):
            await client.send_simple(401, [], b"")
            return
        raw_id = headers.get(b"x-request-id", b"").decode("latin-1")[:100]
        caller = WebCaller(raw_id or uuid.uuid4().hex)
        request_id_var.set(caller.request_id)
        if request.method == b"GET" and target.path == "/sessions":
            await client.send_json(200, {"sessions": self._sessions()})
        elif relayed:
            await self._relay(client, request, parts, target, caller)
        else:
            payload, error_headers = caller.error("not_found")
            await client.send_json(404, payload, error_headers)

    async def _granted(
        self,
        client: HttpConnection,
        request: h11.Request,
        value: str,
        parts: list[str],
        target: SplitResult,
    ) -> None:
        grant = grant_verify(
            value, method=request.method.decode("latin-1"), target=request.target.decode("latin-1")
        )
        if grant is None or not self._first_use(grant):
            logger.warning("relay grant refused (forged, stale, reused or for another request)")
            await client.send_simple(401, [], b"")
            return
        request_id_var.set(grant.request_id)  # this connection's task: every line of it
        logger.info("relayed for nginx", extra={"device_id": grant.device_id})
        relay_slots.keeper.hold(_slot(grant))
        caller = UserCaller(grant, on_finish=lambda: self._release(grant))
        await self._relay(client, request, parts, target, caller)

    def _first_use(self, grant: Grant) -> bool:
        now = time.monotonic()
        # Entries go in with the same lifetime, so in the order they expire: the
        # expired ones are at the front (no walk over the 30 s of grants behind them).
        while self._used_grants:
            oldest = next(iter(self._used_grants))
            if self._used_grants[oldest] >= now:
                break
            del self._used_grants[oldest]
        if grant.slot_id in self._used_grants:
            return False
        self._used_grants[grant.slot_id] = now + GRANT_MAX_AGE_SECONDS + 1
        return True

    def _release(self, grant: Grant) -> None:
        # No longer renewed from now; freed in the store off the loop (Redis or the
        # database), with the other exchanges that ended meanwhile in one call. A
        # release that fails or never runs (the node stopping) ends with its lease.
        slot = _slot(grant)
        relay_slots.keeper.forget(slot)
        if self._releases is None:
            self._releases = Batcher(_release_slots, name="slot-release")
            self._releases.start()
        released: asyncio.Future[object] = asyncio.ensure_future(self._releases.add(slot))
        self.node.keep(released)

    def _sessions(self) -> list[dict[str, str]]:
        return [
            {
                "device_id": session.device_id,
                "connection_id": session.connection_id,
                "connected_at": session.connected_at.isoformat(),
            }
            for session in self.node.sessions.values()
        ]

    async def _relay(
        self,
        client: HttpConnection,
        request: h11.Request,
        parts: list[str],
        target: SplitResult,
        caller: WebCaller | UserCaller,
    ) -> None:
        try:
            device_id = str(uuid.UUID(parts[2]))
        except ValueError:
            device_id = ""
        session = self.node.sessions.get(device_id)
        path = "/" + (parts[3] if len(parts) > 3 else "")
        if target.query:
            path += "?" + target.query
        if session is None:
            try:
                payload, headers = caller.error("device_offline")
                await client.send_json(503, payload, headers)
            finally:
                caller.finished()
            return
        exchange = Exchange(
            client, session, request, device_path=path, caller=caller, limits=self.limits
        )
        await exchange.run()


def _release_slots(slots: list[relay_slots.Slot]) -> None:
    try:
        relay_slots.slot_release_many(slots=slots)
    except Exception:
        # Their leases run out by themselves within the TTL.
        logger.warning("relay slot release failed", exc_info=True)


def _slot(grant: Grant) -> relay_slots.Slot:
    return relay_slots.Slot(id=grant.slot_id, user_id=grant.user_id, device_id=grant.device_id)
