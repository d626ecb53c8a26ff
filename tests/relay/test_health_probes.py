"""The relay node's probes: /livez (the process answers) and /readyz (registry and
database answer), on the internal port, without the shared secret."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from relay.management.commands.run_relay import reachable_host
from tests.relay.conftest import Relay, free_port
from tests.waiting import wait_for

# A port nothing listens on: a service there is down.
CLOSED = free_port()


@pytest.fixture
def node_with(request):
    """A relay started with ``request.param`` over the test's environment.

    With its registry (Redis) there, the node takes its lease and then opens its tunnel
    port: waiting for that port means /readyz is asked once the node has started, not
    in the moment between its internal port opening and its lease (a loaded machine made
    that moment long enough to be asked in). Without its registry the tunnel port never
    opens: the internal one is all there is to wait for."""
    registry_down = "REDIS_URL" in request.param
    node = Relay(env=request.param, wait_for_tunnel_port=not registry_down).start()
    yield node
    print("relay output:\n" + node.stop())


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
@pytest.mark.redis
@pytest.mark.live
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ready_node_answers_both_probes_without_the_secret(relay, path):
    response = relay.get(path, secret=None)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"
    if path == "/readyz":
        assert response.json()["checks"] == {"postgres": "ok", "redis": "ok", "tunnels": "ok"}


@pytest.mark.parametrize(
    ("node_with", "down"),
    [
        ({"DATABASE_URL": f"postgres://postgres@127.0.0.1:{CLOSED}/gone"}, "postgres"),
        ({"REDIS_URL": f"redis://127.0.0.1:{CLOSED}/0"}, "redis"),
    ],
    indirect=["node_with"],
    ids=["database-down", "registry-down"],
)
@pytest.mark.redis
@pytest.mark.live
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_node_whose_dependency_is_down_is_live_but_not_ready(node_with, down):
    assert node_with.get("/livez", secret=None).status_code == 200
    response = node_with.get("/readyz", secret=None)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][down] == "down"
    # Without its registry a node takes no lease, so no tunnel: it waits for it.
    takes_tunnels = "down" if down == "redis" else "ok"
    assert body["checks"]["tunnels"] == takes_tunnels
    others = [state for name, state in body["checks"].items() if name not in (down, "tunnels")]
    assert others and all(state == "ok" for state in others)
    # The driver's error (with the address it failed on) goes to the log only.
    assert str(CLOSED) not in response.text


@contextlib.contextmanager
def forwarding(port: int, to: tuple[str, int]) -> Iterator[None]:
    """Connections to 127.0.0.1:``port`` passed on to ``to``: a service that comes up."""
    listener = socket.create_server(("127.0.0.1", port))
    open_sockets = [listener]

    def pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection(to)
                open_sockets.extend([client, upstream])
                for ends in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe, args=ends, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield
    finally:
        for each in open_sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()


def tunnel_port_open(node: Relay) -> bool:
    try:
        socket.create_connection(("127.0.0.1", node.tunnel_port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.redis
@pytest.mark.live
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_node_started_before_its_registry_waits_for_it_then_takes_tunnels():
    real = urlsplit(settings.REDIS_URL)
    port = free_port()
    credentials = real.netloc.rpartition("@")[0]
    late = real._replace(netloc=(credentials + "@" if credentials else "") + f"127.0.0.1:{port}")
    node = Relay(env={"REDIS_URL": late.geturl()}, wait_for_tunnel_port=False).start()
    try:
        waiting = node.get("/readyz", secret=None)
        assert waiting.status_code == 503
        assert waiting.json()["checks"]["tunnels"] == "down"
        assert not tunnel_port_open(node)
        with forwarding(port, (real.hostname, real.port or 6379)):
            wait_for(lambda: node.get("/readyz", secret=None).status_code == 200, timeout=90)
            assert tunnel_port_open(node)
            # Stopped while its registry answers: it gives its lease back.
            print("relay output:\n" + node.stop())
    finally:
        print("relay output:\n" + node.stop())


@pytest.mark.live
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_probes_open_nothing_else_without_the_secret(relay):
    assert relay.get("/sessions", secret=None).status_code == 401
    assert relay.get("/livez/../sessions", secret=None).status_code == 401
    assert relay.request("POST", "/readyz", secret=None).status_code == 401


def test_a_wildcard_listener_advertises_this_hosts_address(monkeypatch):
    import socket

    monkeypatch.setattr(socket, "gethostname", lambda: "relay-7f3a")
    monkeypatch.setattr(socket, "gethostbyname", lambda name: {"relay-7f3a": "172.18.0.5"}[name])
    assert reachable_host("0.0.0.0") == "172.18.0.5"
    assert reachable_host("::") == "172.18.0.5"
    assert reachable_host("10.1.2.3") == "10.1.2.3"
