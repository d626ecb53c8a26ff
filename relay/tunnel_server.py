"""The tunnel port: agents dial in over WebSocket, authenticated in the handshake.

``GET /tunnel`` with ``Authorization: Bearer <device token>``. The token is
checked before the upgrade: a missing, revoked or expired token, an unpaired device
or a deactivated owner, or any scheme but ``Bearer``, gets HTTP 401 and no
WebSocket. A node taking more handshakes than its rate, or whose database cannot
check tokens right now, says 503 with ``Retry-After``.
"""

from __future__ import annotations

import http
import logging
import random
import time
from typing import Any

# The agent reads them there.
from visiona_client.tunnel import IDLE_DEADLINE_HEADER, PING_INTERVAL_HEADER
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from relay.auth import OUTAGES, TunnelIdentity, bearer_token, outage_reason
from relay.exchange import Limits
from relay.h2_session import MESSAGE_BYTES, TunnelSession
from relay.node import RelayNode

logger = logging.getLogger(__name__)
WEBSOCKETS_LOGGER = logging.getLogger("relay.websockets")

TUNNEL_PATH = "/tunnel"
# Seconds an agent is told to wait when the database cannot check its token (drawn at
# random in this range: the agents of a database outage come back spread out).
DATABASE_RETRY_AFTER_SECONDS = (5, 15)


class TunnelConnection(ServerConnection):
    """A WebSocket that remembers when its agent was last heard from.

    The agent pings every ``RELAY_AGENT_PING_SECONDS`` (the handshake's
    ``X-Visiona-Ping-Interval`` tells it); the node closes a tunnel silent for longer
    than ``h2_session.silence_seconds`` of that (``TunnelSession.check_liveness``). The
    relay sends no WebSocket pings of its own: a timer, a ping and a pong per tunnel
    every 15 s were most of an idle node's CPU.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_heard = time.monotonic()

    def data_received(self, data: bytes) -> None:
        self.last_heard = time.monotonic()
        super().data_received(data)


class TunnelServer:
    def __init__(self, node: RelayNode, *, limits: Limits) -> None:
        self.node = node
        self.limits = limits

    async def start(self, host: str, port: int) -> Server:
        return await serve(
            self._handler,
            host,
            port,
            process_request=self._authenticate,
            process_response=self._tell_ping_interval,
            # Binary HTTP/2 bytes: compression would only cost CPU.
            compression=None,
            ping_interval=None,  # the agent pings; see TunnelConnection
            create_connection=TunnelConnection,
            max_size=MESSAGE_BYTES * 4,
            # Its DEBUG lines hold the handshake's headers, the device token among them.
            logger=WEBSOCKETS_LOGGER,
        )

    async def _authenticate(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if request.path.split("?", 1)[0] != TUNNEL_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not found\n")
        retry_after = self.node.admission.admit()
        if retry_after is not None:
            return busy(connection, retry_after, "relay_busy: the relay node is busy")
        token = bearer_token(request.headers.get("Authorization"))
        try:
            # Cached briefly, asked of the database in batches (relay/token_checks.py).
            identity = await self.node.tokens.identify(token) if token else None
        except Exception as exc:
            # The database (or what the check needs) is down: not the agent's fault, and
            # not a refusal. 503: the agent dials again then, quietly. An outage in one
            # line (the token check said why); anything else with its traceback.
            outage = isinstance(exc, OUTAGES)
            logger.warning(
                "tunnel handshake deferred: the token check failed (%s)",
                outage_reason(exc),
                exc_info=not outage,
            )
            return busy(
                connection,
                random.randint(*DATABASE_RETRY_AFTER_SECONDS),
                "service_unavailable: the relay cannot check tokens right now; try again",
            )
        if identity is None:
            logger.info("tunnel refused: no usable device token")
            return connection.respond(
                http.HTTPStatus.UNAUTHORIZED,
                "device_token_invalid: the device token is missing, revoked or expired, "
                "or the device was unpaired\n",
            )
        connection.visiona_identity = identity  # type: ignore[attr-defined]  # read by _handler
        return None

    def _tell_ping_interval(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        if response.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS:
            response.headers[PING_INTERVAL_HEADER] = str(self.node.agent_ping_seconds)
            # The agent stops waiting on a silent local API when this node would have.
            response.headers[IDLE_DEADLINE_HEADER] = f"{self.limits.quiet_seconds:g}"

    async def _handler(self, connection: ServerConnection) -> None:
        identity: TunnelIdentity = connection.visiona_identity  # type: ignore[attr-defined]
        session = TunnelSession(
            connection, device_id=identity.device_id, token_hash=identity.token_hash
        )
        await self.node.serve_tunnel(session)


def busy(connection: ServerConnection, retry_after: int, why: str) -> Response:
    """503 with ``Retry-After``: the agent comes back then (docs/tunnel.md, "Reconnect storms")."""
    response = connection.respond(
        http.HTTPStatus.SERVICE_UNAVAILABLE, f"{why}; retry after {retry_after} s\n"
    )
    response.headers["Retry-After"] = str(retry_after)
    return response
