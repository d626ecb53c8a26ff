"""Through the real web endpoint: live server, relay and demo agent in their own processes.

The relay and agent fixtures are the relay's own tests' (tests/relay/conftest.py,
imported by tests/e2e/conftest.py);
here the client is a browser-like session of the live server, not the internal port.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from django.db import connections

from devices import tunnel_registry
from devices.models import Device
from tests.e2e.conftest import VisionA
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reachable(connected_agent):
    """The connected agent once the registry names its node too (the relay lists a
    session a moment before its registry write lands)."""
    wait_for(lambda: tunnel_registry.lookup(connected_agent.device_id), timeout=10)
    return connected_agent


@pytest.fixture
def web(live_server, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    yield lambda user: VisionA(live_server.url, user)
    connections.close_all()


def test_the_owner_reads_the_devices_deps_through_visiona(web, reachable, alice, bob):
    device = reachable.device
    alice_http = web(alice)

    relayed = alice_http.get(f"/api/devices/{device.pk}/agent/api/system/deps")
    assert relayed.status_code == 200, relayed.text
    assert relayed.json()["dongles"][0]["serial"] == device.serial
    assert relayed.headers["Content-Security-Policy"].startswith("sandbox")
    assert relayed.headers["X-Content-Type-Options"] == "nosniff"
    assert relayed.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in relayed.headers

    for path in ("/api/system/deps", f"/api/system/deps?device={device.pk}"):
        deps = alice_http.get(path)
        assert deps.status_code == 200, deps.text
        assert deps.json()["demo"] is True

    health = alice_http.get("/api/system/health").json()
    assert health["tunnel_connected"] is True
    assert health["agent_session_count"] == 1

    page = alice_http.get(f"/devices/{device.pk}/").text
    assert "Connected" in page and device.serial in page and "Firmware 2.2.0" in page

    bob_http = web(bob)
    for path in (f"/api/devices/{device.pk}/agent/api/system/deps", "/api/system/deps"):
        refused = bob_http.get(path)
        assert refused.status_code in {404, 503}
    assert bob_http.get(f"/api/devices/{device.pk}/agent/x").json()["error"]["code"] == (
        "device_not_found"
    )
    assert bob_http.get(f"/api/system/deps?device={device.pk}").status_code == 404


def test_a_large_answer_streams_through_and_writes_need_the_csrf_token(web, reachable, alice):
    device = reachable.device
    alice_http = web(alice)
    size = 20 * 1024 * 1024
    with alice_http.http.get(
        alice_http.url(f"/api/devices/{device.pk}/agent/api/demo/blob?bytes={size}"),
        stream=True,
        timeout=60,
    ) as blob:
        assert blob.status_code == 200
        assert sum(len(chunk) for chunk in blob.iter_content(1024 * 1024)) == size

    url = f"/api/devices/{device.pk}/agent/api/demo/echo"
    refused = alice_http.http.post(alice_http.url(url), data=b"no token", timeout=30)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"


def test_a_request_body_streams_to_the_device(web, reachable, alice):
    alice_http = web(alice)
    body = os.urandom(3 * 1024 * 1024)
    echoed = alice_http.post(
        f"/api/devices/{reachable.device_id}/agent/api/demo/echo",
        data=body,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert echoed.status_code == 200, echoed.text
    assert echoed.json() == {
        "demo": True,
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }


def test_an_offline_device_is_503_at_once(web, relay, agents, alice):
    agents.pair()  # paired, but its agent never runs
    device = Device.objects.latest("created_at")
    # No tunnel in the registry: answered without asking any relay (how fast is
    # bench/'s to measure, not a test's).
    response = web(alice).get(f"/api/devices/{device.pk}/agent/api/system/deps")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "device_offline"
    page = web(alice).get(f"/devices/{device.pk}/").text
    assert "Not connected" in page


def test_a_killed_agent_is_offline_or_unreachable_fast(web, reachable, alice):
    reachable.process.kill()
    reachable.process.wait(timeout=10)
    alice_http = web(alice)
    deadline = time.monotonic() + 60
    while True:
        response = alice_http.get(f"/api/devices/{reachable.device_id}/agent/api/system/deps")
        if response.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert response.status_code in {502, 503}
    assert response.json()["error"]["code"] in {"device_unreachable", "device_offline"}
