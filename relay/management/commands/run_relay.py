"""``manage.py run_relay``: one relay node (tunnel port for agents, internal port for web)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from visiona_client import allocator

from relay.exchange import Limits
from relay.internal_server import InternalServer
from relay.node import RelayNode
from relay.tunnel_server import TunnelServer

logger = logging.getLogger("relay")


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)


def reachable_host(bind_host: str) -> str:
    """The address to advertise for a listener bound to ``bind_host``.

    A wildcard (0.0.0.0, ::) is no address another host can dial: take this host's
    own, as its name resolves. In a container that is its address on the network, so
    every replica of one service advertises itself with no setting of its own.
    """
    if bind_host not in WILDCARD_HOSTS:
        return bind_host
    return socket.gethostbyname(socket.gethostname())


@contextlib.contextmanager
def _port_named(which: str, host: str, port: int, ports: tuple[int, int]) -> Iterator[None]:
    """A listener that cannot open becomes one sentence with the way out (make run's
    variables), not a traceback."""
    try:
        yield
    except OSError as exc:
        reason = (
            "it is taken (another `make run`, or another program, listens there)"
            if exc.errno == errno.EADDRINUSE
            else exc.strerror or str(exc)
        )
        raise CommandError(
            f"The relay cannot listen on its {which} port, {host}:{port}: {reason}. Stop "
            f"what holds it, or choose other ports: `make run RELAY_TUNNEL_PORT="
            f"{ports[0] + 10} RELAY_INTERNAL_PORT={ports[1] + 10}` (run_relay's "
            "--tunnel-port and --internal-port)."
        ) from None


class Command(BaseCommand):
    help = "Run a tunnel relay node: agents dial the tunnel port, web instances the internal port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tunnel-port", type=int, default=3800)
        parser.add_argument("--internal-port", type=int, default=3801)
        parser.add_argument(
            "--host", default="127.0.0.1", help="address of both listeners (0.0.0.0: all)"
        )
        parser.add_argument(
            "--internal-host",
            help="address of the internal port only (default: --host); keep it private",
        )
        parser.add_argument(
            "--advertise-url",
            help="how web instances reach this node's internal port (default: "
            "RELAY_NODE_INTERNAL_URL, else http://HOST:INTERNAL_PORT, HOST being this "
            "host's address when the port listens on all of them)",
        )
        parser.add_argument(
            "--ready-file",
            help="write 'ready' into this file once both ports listen (make run waits for it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Never below INFO, whatever LOG_LEVEL says: at DEBUG these print the handshake's
        # headers (the device token) and every HTTP/2 header block.
        for name in ("relay.websockets", "hpack", "h2"):
            logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).level))
        if not settings.RELAY_INTERNAL_SECRET:
            raise CommandError(
                "RELAY_INTERNAL_SECRET is not set: give web instances and relay nodes the "
                "same random value of 50+ characters."
            )
        internal_host = options["internal_host"] or options["host"]
        node_url = (
            options["advertise_url"]
            or settings.RELAY_NODE_INTERNAL_URL
            or f"http://{reachable_host(internal_host)}:{options['internal_port']}"
        ).rstrip("/")
        allocator.keep_large_blocks()  # before the first large answer passes
        # Django's objects, loaded once, never become garbage: out of the collector's
        # sight, so a collection walks only the relay's own (perf: 10 % of its CPU).
        gc.freeze()
        asyncio.run(
            self._serve(
                host=options["host"],
                internal_host=internal_host,
                tunnel_port=options["tunnel_port"],
                internal_port=options["internal_port"],
                node_url=node_url,
                ready_file=options["ready_file"],
            )
        )

    async def _serve(
        self,
        *,
        host: str,
        internal_host: str,
        tunnel_port: int,
        internal_port: int,
        node_url: str,
        ready_file: str | None,
    ) -> None:
        node = RelayNode(node_url=node_url)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        ports = (tunnel_port, internal_port)
        # The internal port first, so the probes answer while the node waits for the
        # registry (/livez: up; /readyz: which dependency is missing).
        limits = limits_from_settings()
        internal_server = InternalServer(node, secret=settings.RELAY_INTERNAL_SECRET, limits=limits)
        with _port_named("internal", internal_host, internal_port, ports):
            internal = await internal_server.start(internal_host, internal_port)
        # Its registry lease before the tunnel port opens: tunnels register under it.
        if not await _until_stopped(node.start(), stopping):
            internal.close()
            logger.info("relay node stopped before it took its lease")
            return
        try:
            with _port_named("tunnel", host, tunnel_port, ports):
                tunnel = await TunnelServer(node, limits=limits).start(host, tunnel_port)
        except CommandError:
            # The tunnel port is taken: give the lease back (nothing registered under it
            # yet), close the internal port, then say why in one sentence.
            internal.close()
            await node.shutdown()
            raise
        logger.info(
            "relay node up: tunnel ws://%s:%d/tunnel, internal %s (advertised as %s)",
            host,
            tunnel_port,
            f"{internal_host}:{internal_port}",
            node_url,
        )
        self.stdout.write(f"relay ready: tunnel port {tunnel_port}, internal port {internal_port}")
        self.stdout.flush()
        if ready_file:
            Path(ready_file).write_text("ready\n")
        await stopping.wait()
        logger.info("relay node stopping: closing %d tunnels", len(node.sessions))
        tunnel.close(close_connections=False)
        internal.close()
        await node.shutdown()
        # Answers cut short by the tunnels' closing: told, or cut off if never read.
        await internal_server.close_connections()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tunnel.wait_closed(), 3)
        logger.info("relay node stopped")


async def _until_stopped(work: Coroutine[Any, Any, None], stopping: asyncio.Event) -> bool:
    """Run ``work`` unless ``stopping`` is set first (then cancel it): whether it finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


def limits_from_settings() -> Limits:
    return Limits(
        max_body_bytes=settings.RELAY_MAX_BODY_BYTES,
        head_seconds=settings.RELAY_REQUEST_TIMEOUT_SECONDS,
        idle_seconds=settings.RELAY_IDLE_TIMEOUT_SECONDS,
        total_seconds=settings.RELAY_EXCHANGE_TIMEOUT_SECONDS,
    )
