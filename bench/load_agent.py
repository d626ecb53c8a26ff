"""A load agent: thousands of devices' agents in one asyncio process (issue 26).

    .venv/bin/python bench/load_agent.py --tunnel-url ws://127.0.0.1:3800/tunnel \\
        --tokens tokens.txt [--server http://127.0.0.1:8000] [--heartbeats new|old|none] \\
        [--ramp 200] [--report-every 1]

Each device speaks the agent's real protocol with the client's own pieces: the
WebSocket handshake with its device token (``Authorization: Bearer``, ``compression=None``,
pings at the interval the relay names, as ``visiona-agent run`` does), HTTP/2 with the agent's
settings (``visiona_client.tunnel_streams``: 100 streams, its windows and frame size) in
which the relay is the client, the agent's own paths (``visiona_client.tunnel_control``:
``POST /_visiona/deployments/sync`` answers 202), and every other relayed request
answered at once with a small JSON body (no local device API behind: this
measures the relay, not a device). Reconnects follow ``visiona_client.backoff``
(full jitter) and a busy relay's ``Retry-After``; a refused token (401/403) stops
that device.

Heartbeats (``visiona_client.server_api.ServerApi``, in a few threads):
``new`` as an agent with an open tunnel sends them (one per
``--tunnel-heartbeat`` seconds, each device at a random phase), ``old`` every
``--interval`` seconds as older agents do, ``none``.

``--tokens``: one device token a line (the benchmark creates them in its own
database). Prints one JSON line of counters every ``--report-every`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import requests
from visiona_client import tunnel as agent_keepalive
from visiona_client import tunnel_streams as agent_tunnel
from visiona_client.backoff import Backoff, retry_after_seconds
from visiona_client.server_api import ServerApi, ServerError
from visiona_client.tunnel_control import SYNC_PATH, ControlPaths, is_control_path
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

AGENT = "visiona-agent/load-agent"
ANSWER = json.dumps({"demo": True, "load_agent": True, "dongles": []}).encode()


@dataclass
class Counters:
    devices: int = 0
    connected: int = 0  # tunnels open now
    opened: int = 0  # tunnels opened so far
    busy: int = 0  # 503 handshakes (Retry-After)
    refused: int = 0  # 401/403 handshakes: those devices stopped
    failed: int = 0  # other dial failures (refused connection, timeouts, ...)
    closed_by_relay: int = 0
    requests: int = 0  # relayed requests answered
    syncs: int = 0  # POST /_visiona/deployments/sync received
    heartbeats: int = 0
    heartbeat_errors: int = 0


class LoadAgent:
    def __init__(self, args: argparse.Namespace, tokens: list[str]) -> None:
        self.args = args
        self.tokens = tokens
        self.counters = Counters(devices=len(tokens))
        self.stopping = asyncio.Event()
        self._pool = ThreadPoolExecutor(max_workers=args.heartbeat_threads)
        self._http = threading.local()

    async def run(self) -> None:
        reporter = asyncio.create_task(self._report())
        devices = []
        for index, token in enumerate(self.tokens):
            devices.append(asyncio.create_task(self._device(token)))
            if self.args.heartbeats != "none":
                devices.append(asyncio.create_task(self._heartbeats(token)))
            if self.args.ramp and index % max(1, int(self.args.ramp) // 20) == 0:
                await asyncio.sleep(0.05)  # about --ramp devices a second
        await self.stopping.wait()
        for task in [*devices, reporter]:
            task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # One device's tunnel -------------------------------------------------------------

    async def _device(self, token: str) -> None:
        backoff = Backoff()
        while not self.stopping.is_set():
            delay = None
            try:
                async with connect(
                    self.args.tunnel_url,
                    additional_headers={
                        "Authorization": f"Bearer {token}",
                        "X-Visiona-Agent": AGENT,
                    },
                    user_agent_header=AGENT,
                    compression=None,
                    open_timeout=30,
                    ping_interval=agent_keepalive.DEFAULT_PING_SECONDS,
                    ping_timeout=15,
                    max_size=agent_tunnel.MESSAGE_BYTES * 4,
                ) as websocket:
                    # As the agent does: the relay's interval (the first ping may still come
                    # after the default: the keepalive task may have started its wait).
                    websocket.ping_interval = agent_keepalive.ping_interval(
                        websocket.response.headers
                    )
                    backoff.reset()
                    self.counters.connected += 1
                    self.counters.opened += 1
                    try:
                        await self._serve(websocket)
                    finally:
                        self.counters.connected -= 1
                    self.counters.closed_by_relay += 1
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    self.counters.refused += 1
                    return
                self.counters.busy += status == 503
                self.counters.failed += status != 503
                delay = retry_after_seconds(exc.response.headers.get("Retry-After"))
            except (OSError, WebSocketException, TimeoutError, h2.exceptions.ProtocolError):
                self.counters.failed += 1
            # A busy relay's Retry-After as the agent obeys it (visiona_client.tunnel).
            await asyncio.sleep(delay if delay is not None else backoff.next_delay())

    async def _serve(self, websocket) -> None:
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="latin-1")
        )
        conn.initiate_connection()
        conn.update_settings(
            {
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: agent_tunnel.MAX_STREAMS,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: agent_tunnel.STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_FRAME_SIZE: agent_tunnel.MAX_FRAME_SIZE,
            }
        )
        conn.increment_flow_control_window(agent_tunnel.CONNECTION_WINDOW - 65535)
        control = ControlPaths({SYNC_PATH: self._synced})
        await websocket.send(conn.data_to_send())
        requests_waiting: dict[int, list] = {}
        try:
            async for message in websocket:
                if isinstance(message, str):
                    return
                for event in conn.receive_data(message):
                    if isinstance(event, h2.events.RequestReceived):
                        requests_waiting[event.stream_id] = event.headers
                    elif isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        headers = requests_waiting.pop(event.stream_id, None)
                        if headers is not None:
                            self._answer(conn, event.stream_id, headers, control)
                    elif isinstance(event, h2.events.StreamReset):
                        requests_waiting.pop(event.stream_id, None)
                data = conn.data_to_send()
                if data:
                    await websocket.send(data)
        except ConnectionClosed:
            pass

    def _answer(self, conn, stream_id: int, headers: list, control: ControlPaths) -> None:
        pseudo = dict(headers)
        path, method = pseudo.get(":path", "/"), pseudo.get(":method", "GET")
        if is_control_path(path):
            status, payload = control.answer(method, path, pseudo.get("x-request-id", ""))
            body = json.dumps(payload).encode()
        else:
            status, body = 200, ANSWER
        self.counters.requests += 1
        conn.send_headers(
            stream_id, [(":status", str(status)), ("content-type", "application/json")]
        )
        conn.send_data(stream_id, body, end_stream=True)

    def _synced(self) -> None:
        self.counters.syncs += 1

    # Heartbeats --------------------------------------------------------------------

    async def _heartbeats(self, token: str) -> None:
        every = self.args.tunnel_heartbeat if self.args.heartbeats == "new" else self.args.interval
        await asyncio.sleep(random.random() * every)  # each device at its own phase
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            await loop.run_in_executor(self._pool, self._beat, token)
            await asyncio.sleep(every)

    def _beat(self, token: str) -> None:
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = requests.Session()
        api = ServerApi(self.args.server, token=token, session=session)
        try:
            api.heartbeat(status="ready", agent_version=AGENT)
            self.counters.heartbeats += 1
        except ServerError:
            self.counters.heartbeat_errors += 1

    async def _report(self) -> None:
        while True:
            print(json.dumps({"at": time.time(), **asdict(self.counters)}), flush=True)
            await asyncio.sleep(self.args.report_every)


def raise_file_limit() -> tuple[int, int]:
    """The soft limit of open files up to the hard one: a tunnel is a socket."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tunnel-url", required=True)
    parser.add_argument("--tokens", required=True, type=Path)
    parser.add_argument("--server", default="", help="visionA's URL (for heartbeats)")
    parser.add_argument("--heartbeats", choices=["new", "old", "none"], default="none")
    parser.add_argument("--interval", type=float, default=30.0, help="old agents' heartbeat")
    parser.add_argument("--tunnel-heartbeat", type=float, default=3600.0)
    parser.add_argument("--heartbeat-threads", type=int, default=4)
    parser.add_argument("--ramp", type=float, default=200.0, help="devices started a second")
    parser.add_argument("--report-every", type=float, default=1.0)
    args = parser.parse_args()
    if args.heartbeats != "none" and not args.server:
        parser.error("--heartbeats needs --server")
    tokens = [line.strip() for line in args.tokens.read_text().splitlines() if line.strip()]
    soft, _hard = raise_file_limit()
    if soft < len(tokens) + 100:
        sys.exit(f"open files limit {soft} is too low for {len(tokens)} tunnels (ulimit -n)")
    agent = LoadAgent(args, tokens)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(agent.run())


if __name__ == "__main__":
    main()
