"""The relay and an agent in this process, and a device whose every byte a test controls.

``InProcessRelay`` runs a relay node (tunnel port, internal port, the node's periodic
jobs) on an event loop in a thread of the test process: its code is measured by
coverage on SQLite as on PostgreSQL (tests are ``transaction=True``: the relay's
worker threads read what they commit). ``InProcessAgent`` runs the agent's
``TunnelClient`` in a thread. ``StandInDevice`` is the device's local API on a real
socket; its slow answers move one step each time the test says so (``release``), and
it records what happened in order (``events``), so tests assert on the order of events,
never on how long something took.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import select
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from visiona_client.backoff import Backoff
from visiona_client.tunnel import TunnelClient

from deploy.processes import free_port as _free_port
from relay.exchange import Limits
from relay.internal_server import InternalServer
from relay.node import RelayNode
from relay.tunnel_server import TunnelServer
from tests import waiting


def wait_for(condition: Callable[[], object], *, timeout: float = 15.0):
    """tests.waiting.wait_for, polling every 20 ms: the relay here answers in
    milliseconds, and a test waits for many such steps in a row."""
    return waiting.wait_for(condition, timeout=timeout, interval=0.02)


# --- The device's local API ------------------------------------------------------------


@dataclass
class Gate:
    """One slow answer: each ``release()`` lets the device send its next step."""

    steps: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    sent: int = 0
    gone: threading.Event = field(default_factory=threading.Event)


class StandInDevice:
    """A device's local API. Paths:

    - ``/ok``: a small JSON answer (``X-Device: 1``, ``Vary: Origin``);
    - ``/status?code=N``: that status line as it is (``999`` included);
    - ``/headers?location=...``: an answer with a Location, a Set-Cookie and a
      malformed header;
    - ``/slow/<name>?bytes=N&length=1``: the head, then one byte per ``release(name)``
      (with a Content-Length when ``length=1``, else until the connection closes);
    - ``/silent/<name>``: nothing at all until ``release(name)``;
    - ``/echo``: the request's method, path, headers and body size as JSON.
    ``events`` lists what happened: ("sent", name, n), ("gone", name)...
    """

    def __init__(self) -> None:
        self.gates: dict[str, Gate] = {}
        self.events: list[tuple] = []
        self._lock = threading.Lock()
        device = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                device._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        for gate in self.gates.values():
            for _ in range(1000):
                gate.steps.release()
        self.server.shutdown()
        self.server.server_close()

    def gate(self, name: str) -> Gate:
        with self._lock:
            return self.gates.setdefault(name, Gate())

    def release(self, name: str, steps: int = 1) -> None:
        for _ in range(steps):
            self.gate(name).steps.release()

    def record(self, *event) -> None:
        with self._lock:
            self.events.append(event)

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        parts = split.path.strip("/").split("/")
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if parts[0] == "ok":
            self._send(request, 200, [("Vary", "Origin"), ("X-Device", "1")], b'{"ok": true}')
        elif parts[0] == "status":
            request.wfile.write(f"HTTP/1.1 {query['code']} Whatever\r\n".encode())
            request.wfile.write(b"Content-Length: 2\r\nConnection: close\r\n\r\nhi")
            request.close_connection = True
        elif parts[0] == "headers":
            request.wfile.write(b"HTTP/1.1 302 Found\r\n")
            request.wfile.write(f"Location: {query.get('location', '/x')}\r\n".encode())
            request.wfile.write(b"X-Fine: yes\r\nContent-Length: 0\r\nConnection: close\r\n")
            request.wfile.write(b"Set-Cookie: sessionid=from-the-device; Path=/\r\n")
            request.wfile.write(b"Bad Header: no spaces in names\r\n\r\n")
            request.close_connection = True
        elif parts[0] == "slow":
            self._slow(request, parts[1], int(query.get("bytes", "3")), query.get("length"))
        elif parts[0] == "silent":
            gate = self.gate(parts[1])
            self.record("asked", parts[1])
            if not self._wait(request, gate):
                return
            self._send(request, 200, [], b"late")
        elif parts[0] == "echo":
            payload = {
                "method": request.command,
                "path": request.path,
                "headers": dict(request.headers),
                "bytes": len(body),
            }
            self._send(request, 200, [("Content-Type", "application/json")], _json(payload))
        else:
            self._send(request, 404, [], b"no")

    def _send(self, request, status: int, headers, body: bytes) -> None:
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)

    def _slow(self, request, name: str, size: int, with_length) -> None:
        gate = self.gate(name)
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        if with_length:
            request.send_header("Content-Length", str(size))
        else:
            request.send_header("Connection", "close")
            request.close_connection = True
        request.end_headers()
        request.wfile.flush()
        self.record("head", name)
        for index in range(size):
            if not self._wait(request, gate):
                return
            # Counted before it leaves: whoever reads the byte sees it counted.
            gate.sent = index + 1
            self.record("sent", name, index + 1)
            try:
                request.wfile.write(b"x")
                request.wfile.flush()
            except OSError:
                self.record("gone", name)
                return

    def _wait(self, request, gate: Gate) -> bool:
        """Until the test releases a step; False when the asker hung up meanwhile."""
        while not gate.steps.acquire(timeout=0.05):
            if _peer_closed(request.connection):
                gate.gone.set()
                self.record("gone", next(k for k, v in self.gates.items() if v is gate))
                return False
        return True


def _peer_closed(sock: socket.socket) -> bool:
    readable, _w, _x = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


# --- The relay, in this process ----------------------------------------------------------


class InProcessRelay:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits(
            max_body_bytes=settings.RELAY_MAX_BODY_BYTES,
            head_seconds=settings.RELAY_REQUEST_TIMEOUT_SECONDS,
            idle_seconds=settings.RELAY_IDLE_TIMEOUT_SECONDS,
            total_seconds=settings.RELAY_EXCHANGE_TIMEOUT_SECONDS,
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.node: RelayNode | None = None
        self.tunnel_port = 0
        self.internal_port = 0

    def start(self) -> InProcessRelay:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self.internal_port = _free_port()
        self.node = RelayNode(node_url=self.internal_url)
        await self.node.start()  # its registry lease first: tunnels register under it
        self._tunnel = await TunnelServer(self.node, limits=self.limits).start("127.0.0.1", 0)
        self.tunnel_port = next(iter(self._tunnel.sockets)).getsockname()[1]
        self._internal = await InternalServer(
            self.node, secret=settings.RELAY_INTERNAL_SECRET, limits=self.limits
        ).start("127.0.0.1", self.internal_port)

    def stop(self) -> None:
        async def stop() -> None:
            self._tunnel.close(close_connections=False)
            self._internal.close()
            await self.node.shutdown()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def call(self, function, *args):
        """Run ``function(*args)`` on the relay's loop, for a look at its state."""

        async def run():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    @property
    def tunnel_url(self) -> str:
        return f"ws://127.0.0.1:{self.tunnel_port}/tunnel"

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}"

    def request(self, method: str, path: str, *, secret: str | None = "", **kwargs):
        headers = kwargs.pop("headers", {})
        if secret is not None:
            headers["X-Relay-Secret"] = secret or settings.RELAY_INTERNAL_SECRET
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.internal_url + path, headers=headers, **kwargs)

    def open_streams(self, device_id: str) -> int:
        session = self.node.sessions.get(device_id)
        return self.call(lambda: len(session.streams) if session else 0)

    def connected(self, device_id: str) -> bool:
        return self.call(lambda: device_id in self.node.sessions)


class InProcessAgent:
    """The agent's tunnel (``TunnelClient``) for one device token, in a thread."""

    def __init__(self, *, token: str, relay: InProcessRelay, local_url: str) -> None:
        self.stopping = threading.Event()
        self.refused: BaseException | None = None
        self.client = TunnelClient(
            token=token,
            local_url=local_url,
            user_agent="visiona-agent/test",
            tunnel_url=lambda: relay.tunnel_url,
            stopping=self.stopping,
            backoff=Backoff(base=0.05, cap=0.2),
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.client.run()
        except BaseException as exc:  # TunnelRefused, reported to the test
            self.refused = exc

    def start(self) -> InProcessAgent:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.client.stop()
        self.thread.join(timeout=10)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RawAgent:
    """A hand-driven agent: the HTTP/2 server end of a tunnel, answering each request
    with ``answer(path) -> (status, headers)`` and able to send any bytes (a flood).
    It ignores refusals: nothing but the relay can end its tunnel."""

    def __init__(self, *, token: str, relay: InProcessRelay, answer=None) -> None:
        import h2.config
        import h2.connection
        from websockets.sync.client import connect

        self.answer = answer or (lambda path: ("200", []))
        self._context = connect(
            relay.tunnel_url,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=5,
            max_size=None,
        )
        self.websocket = self._context.__enter__()
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(
                client_side=False, header_encoding="latin-1", validate_outbound_headers=False
            )
        )
        self.lock = threading.Lock()
        self.received: list = []  # every h2 event, in order
        self.closed = threading.Event()
        with self.lock:
            self.conn.initiate_connection()
            self.websocket.send(self.conn.data_to_send())
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import h2.events
        from websockets.exceptions import ConnectionClosed

        try:
            for message in self.websocket:
                with self.lock:
                    try:
                        events = self.conn.receive_data(message)
                    except Exception:
                        continue  # whatever the relay says after a GOAWAY
                    self.received += events
                    for event in events:
                        if isinstance(event, h2.events.RequestReceived):
                            path = dict(event.headers)[":path"]
                            status, headers = self.answer(path)
                            self.conn.send_headers(
                                event.stream_id, [(":status", status), *headers], end_stream=True
                            )
                    if data := self.conn.data_to_send():
                        self.websocket.send(data)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def send_raw(self, data: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            self.websocket.send(data)

    def goaway_codes(self) -> list[int]:
        import h2.events

        with self.lock:
            return [
                int(event.error_code)
                for event in self.received
                if isinstance(event, h2.events.ConnectionTerminated)
            ]

    def close(self) -> None:
        self._context.__exit__(None, None, None)
        self.thread.join(timeout=10)
