"""The tunnel port: agents dial in over WebSocket, authenticated in the handshake.

``GET /tunnel`` with ``Authorization: Bearer <device token>``. The token is
checked (in a worker thread) before the upgrade: a missing, revoked or expired
token, an unpaired device or a deactivated owner, or any scheme but ``Bearer``,
gets HTTP 401 and no WebSocket. A check that cannot be made (the database is down)
gets 503, which the agent retries after its backoff.
"""

from __future__ import annotations

import http
import logging

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from relay.auth import TunnelIdentity, bearer_token, identify, in_thread
from relay.h2_session import MESSAGE_BYTES, TunnelSession
from relay.node import RelayNode

logger = logging.getLogger(__name__)
WEBSOCKETS_LOGGER = logging.getLogger("relay.websockets")

TUNNEL_PATH = "/tunnel"
# Pings both ways: a dead connection is noticed within 30 s.
PING_INTERVAL_SECONDS = 15
PING_TIMEOUT_SECONDS = 15


class TunnelServer:
    def __init__(self, node: RelayNode) -> None:
        self.node = node

    async def start(self, host: str, port: int) -> Server:
        return await serve(
            self._handler,
            host,
            port,
            process_request=self._authenticate,
            # Binary HTTP/2 bytes: compression would only cost CPU.
            compression=None,
            ping_interval=PING_INTERVAL_SECONDS,
            ping_timeout=PING_TIMEOUT_SECONDS,
            max_size=MESSAGE_BYTES * 4,
            # Its DEBUG lines hold the handshake's headers, the device token among them.
            logger=WEBSOCKETS_LOGGER,
        )

    async def _authenticate(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if request.path.split("?", 1)[0] != TUNNEL_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not found\n")
        token = bearer_token(request.headers.get("Authorization"))
        try:
            identity = await in_thread(identify, token) if token else None
        except Exception:
            # The database (or what the check needs) is down: not the agent's fault, and
            # not a refusal. 503: the agent dials again after its backoff, quietly.
            logger.warning("tunnel handshake deferred: the token check failed", exc_info=True)
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                "service_unavailable: the relay cannot check tokens right now; try again\n",
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

    async def _handler(self, connection: ServerConnection) -> None:
        identity: TunnelIdentity = connection.visiona_identity  # type: ignore[attr-defined]
        session = TunnelSession(
            connection, device_id=identity.device_id, token_hash=identity.token_hash
        )
        await self.node.serve_tunnel(session)
