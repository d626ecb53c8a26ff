"""The relay node's probes: /livez (the process answers) and /readyz (registry and
database answer), on the internal port, without the shared secret."""

from __future__ import annotations

import pytest

from relay.management.commands.run_relay import reachable_host
from tests.relay.conftest import Relay, free_port

# A port nothing listens on: a service there is down.
CLOSED = free_port()


@pytest.fixture
def node_with(request):
    """A relay started with ``request.param`` over the test's environment."""
    node = Relay(env=request.param).start()
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
        assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


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
    assert all(state == "ok" for name, state in body["checks"].items() if name != down)
    # The driver's error (with the address it failed on) goes to the log only.
    assert str(CLOSED) not in response.text


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
