"""The agent's own tunnel paths: ``/_visiona/…`` answered by the agent, never forwarded.

A stand-in relay (a WebSocket server speaking HTTP/2 as the client, over real
sockets) sends requests through the agent's ``TunnelClient``; a recording local
API shows what was forwarded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h2.config
import h2.connection
import h2.events
import pytest
from visiona_client.tunnel import TunnelClient
from visiona_client.tunnel_control import SYNC_PATH, ControlPaths
from websockets.sync.server import serve


class _Recording(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        data = b'{"local": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


class StandInRelay:
    """Takes the agent's tunnel; ``request(method, path)`` -> (status, JSON)."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.websocket = None
        self.server = serve(self._handler, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/tunnel"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.done = threading.Event()

    def _handler(self, websocket) -> None:
        self.websocket = websocket
        self.conn.initiate_connection()
        websocket.send(self.conn.data_to_send())
        self.connected.set()
        self.done.wait(30)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
        stream_id = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":path", path), (":scheme", "http")]
        headers += [(":authority", "device"), ("x-request-id", "req-1")]
        self.conn.send_headers(stream_id, headers, end_stream=not body)
        if body:
            self.conn.send_data(stream_id, body, end_stream=True)
        self.websocket.send(self.conn.data_to_send())
        status, data = 0, b""
        while True:
            for event in self.conn.receive_data(self.websocket.recv(timeout=10)):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    data += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    self.websocket.send(self.conn.data_to_send() or b"")
                    return status, json.loads(data)
            outgoing = self.conn.data_to_send()
            if outgoing:
                self.websocket.send(outgoing)

    def close(self) -> None:
        self.done.set()
        self.server.shutdown()


@pytest.fixture
def local_api():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    httpd.paths = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tunnel(local_api):
    relay = StandInRelay()
    nudges: list[int] = []
    stopping = threading.Event()
    client = TunnelClient(
        token="vad_x",
        local_url=f"http://127.0.0.1:{local_api.server_address[1]}",
        user_agent="test",
        tunnel_url=lambda: relay.url,
        stopping=stopping,
        control=ControlPaths({SYNC_PATH: lambda: nudges.append(1)}),
    )
    thread = threading.Thread(target=client.run, daemon=True)
    thread.start()
    assert relay.connected.wait(10)
    yield relay, nudges
    stopping.set()
    client.stop()
    relay.close()
    thread.join(5)


def test_the_sync_nudge_is_answered_by_the_agent_and_wakes_the_worker(tunnel, local_api):
    relay, nudges = tunnel
    status, body = relay.request("POST", SYNC_PATH, b"{}")
    assert (status, body) == (202, {"accepted": True})
    assert nudges == [1]
    assert local_api.paths == []  # never forwarded to the local device API


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", SYNC_PATH, 405, "method_not_allowed"),
        ("POST", "/_visiona/other", 404, "not_found"),
        ("GET", "/_visiona/", 404, "not_found"),
        ("GET", "/_visiona", 404, "not_found"),
    ],
)
def test_other_control_paths_are_errors_and_never_forwarded(
    tunnel, local_api, method, path, status, code
):
    relay, nudges = tunnel
    answer_status, body = relay.request(method, path)
    assert answer_status == status
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == "req-1"
    assert nudges == []
    assert local_api.paths == []


def test_an_encoded_control_path_is_not_forwarded_either(tunnel, local_api):
    relay, nudges = tunnel
    status, _ = relay.request("POST", "/%5Fvisiona/deployments/sync?x=1")
    assert status == 202
    assert nudges == [1]
    assert local_api.paths == []


def test_other_paths_still_reach_the_local_api(tunnel, local_api):
    relay, _ = tunnel
    status, body = relay.request("GET", "/api/system/deps?a=1")
    assert (status, body) == (200, {"local": True})
    assert local_api.paths == ["/api/system/deps?a=1"]


def test_the_agent_wires_the_nudge_to_its_worker(make_runner):
    from visiona_client.agent import Agent
    from visiona_client.deployments import DeploymentWorker

    runner = make_runner()
    worker = DeploymentWorker(api=runner.api, runner=runner)
    agent = Agent(api=runner.api, local_url="http://127.0.0.1:9", deployments=worker)
    assert agent.tunnel.control.answer("POST", SYNC_PATH) == (202, {"accepted": True})
    assert worker._fetch.is_set()
