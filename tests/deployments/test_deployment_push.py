"""The nudge through the tunnel after a create or a cancel commits; best effort.

The relay node is a real HTTP server in a thread standing in for a node's internal
port (tests/relay runs the real one with demo agents). Users cannot reach the
agent's own ``_visiona/`` paths through the relay view.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deployments import push as deployment_push
from deployments import services as deployment_services
from devices import tunnel_registry

pytestmark = pytest.mark.django_db

SECRET = "s" * 50


class FakeNode:
    """Records every request; answers 202 {"accepted": true} like the agent's tunnel server."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.arrived = threading.Event()
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                node.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                payload = json.dumps({"accepted": True}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                node.arrived.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node(settings):
    settings.RELAY_INTERNAL_SECRET = SECRET
    fake = FakeNode()
    yield fake
    fake.close()


def connect(device, node_url: str) -> None:
    tunnel_registry.register(
        device_id=str(device.pk), node_url=node_url, connection_id=uuid.uuid4().hex
    )


def test_a_create_nudges_the_connected_device_after_commit(
    alice, alice_kl720, alice_device, node, django_capture_on_commit_callbacks
):
    device = alice_device.device
    connect(device, node.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deployment_services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[device.pk]
        )
        assert node.requests == []  # nothing before the commit
    assert len(callbacks) == 1
    assert node.arrived.wait(5)
    (request,) = node.requests
    assert request["path"] == f"/devices/{device.pk}/_visiona/deployments/sync"
    assert request["headers"]["X-Relay-Secret"] == SECRET
    assert "Authorization" not in request["headers"]


def test_a_cancel_nudges_too(
    alice, alice_kl720, alice_device, node, django_capture_on_commit_callbacks
):
    device = alice_device.device
    deployment = deployment_services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[device.pk]
    )[0].deployment
    connect(device, node.url)
    with django_capture_on_commit_callbacks(execute=True):
        deployment_services.deployment_cancel(user=alice, deployment_id=deployment.pk)
    assert node.arrived.wait(5)
    assert node.requests[0]["path"].endswith("/_visiona/deployments/sync")


def test_only_connected_devices_are_nudged_and_answers_are_returned(alice, alice_devices, node):
    connected, offline = alice_devices(2)
    connect(connected.device, node.url)
    futures = deployment_push.push([str(connected.device.pk), str(offline.device.pk)])
    assert [future.result(timeout=5) for future in futures] == [202]
    assert len(node.requests) == 1


def test_a_dead_node_is_only_logged_and_the_deployment_stands(
    alice, alice_kl720, alice_device, settings, caplog, django_capture_on_commit_callbacks
):
    settings.RELAY_INTERNAL_SECRET = SECRET
    connect(alice_device.device, "http://127.0.0.1:9")  # nothing listens there
    with caplog.at_level(logging.INFO, logger="deployments.push"):
        futures = deployment_push.push([str(alice_device.device.pk)])
        assert [future.result(timeout=10) for future in futures] == [None]
    assert "deployment push failed" in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        results = deployment_services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
        )
    assert results[0].outcome == "created"


def test_a_registry_outage_skips_the_push(monkeypatch, caplog):
    def down(device_ids):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    with caplog.at_level(logging.WARNING, logger="deployments.push"):
        assert deployment_push.push(["x"]) == []
    assert "registry unavailable" in caplog.text


@pytest.mark.parametrize(
    "path", ["_visiona/deployments/sync", "_VISIONA/x", "/_visiona/deployments/sync", "_visiona"]
)
def test_users_cannot_reach_the_agents_own_paths(alice_client, alice_device, node, path):
    connect(alice_device.device, node.url)
    response = alice_client.post(f"/api/devices/{alice_device.device.pk}/agent/{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert node.requests == []
