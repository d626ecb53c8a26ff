"""The device pages in Chromium at 360 px, and a hostile relayed answer in Chromium.

A stand-in relay node (a thread answering the internal port's /devices/<id>/...) gives
the pages a connected device without a relay process, so this runs on SQLite too.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from devices import tunnel_registry

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

DEPS = {
    "demo": True,
    "driver": {"name": "Kneron USB driver (demo)", "version": "1.3.0"},
    "firmware": {"version": "2.2.0", "chip": "KL720"},
    "toolchain": {"kneron_plus": "3.1.2", "kneron_toolchain": "0.27.0"},
    "dongles": [
        {
            "chip": "KL720",
            "serial": "DEMO-KL720-0123456789ABCDEF0123456789",
            "firmware_version": "2.2.0",
            "usb_port": "usb-0000:00:14.0-1.2.3",
            "status": "ready",
        }
    ],
}


# What a hostile local API could answer: a cookie for our origin and a script.
HOSTILE_PAGE = (
    b"<!doctype html><title>device</title>"
    b"<script>document.title = 'script ran'; document.cookie = 'planted=1; path=/';</script>"
)


class _Node(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.endswith("/hostile.html"):
            body, content_type = HOSTILE_PAGE, "text/html; charset=utf-8"
        else:
            body, content_type = json.dumps(DEPS).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "from_device=1; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def node_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def devices(alice, node_url):
    from devices import services

    connected = services.device_pair(
        code=services.pairing_code_create(user=alice).code,
        serial="BENCH-KL720-WITH-A-RATHER-LONG-SERIAL-NUMBER",
        chip="KL720",
        name="A bench machine with a rather long name",
        client_address="192.0.2.1",
    ).device
    offline = services.device_pair(
        code=services.pairing_code_create(user=alice).code,
        serial="SPARE-KL520",
        chip="KL520",
        client_address="192.0.2.1",
    ).device
    tunnel_registry.register(
        device_id=str(connected.pk), node_url=node_url, connection_id=uuid.uuid4().hex
    )
    return connected, offline


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_device_pages_fit_a_phone(page, live_server, devices, language):
    connected, offline = devices
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 740})
    for path, name in (
        ("/devices/", "list"),
        (f"/devices/{connected.pk}/", "connected"),
        (f"/devices/{offline.pk}/", "offline"),
    ):
        page.goto(live_server.url + path)
        page.shot(f"{name}-narrow")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    # The tunnel's state is in view on the list, not behind a sideways scroll.
    page.goto(f"{live_server.url}/devices/")
    box = page.locator("td .status-online").first.bounding_box()
    assert box["x"] + box["width"] <= 360
    page.goto(f"{live_server.url}/devices/{connected.pk}/")
    report = page.inner_text(".device-report")
    assert "DEMO-KL720-0123456789ABCDEF0123456789" in report
    assert "3.1.2" in report


def test_a_relayed_answer_sets_no_cookie_and_runs_no_script(page, live_server, devices):
    connected, _ = devices
    page.goto(f"{live_server.url}/api/devices/{connected.pk}/agent/hostile.html")
    assert page.title() == "device"  # parsed as HTML, and its script did not run
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert "from_device" not in names
    assert "planted" not in names
    assert settings.SESSION_COOKIE_NAME in names  # still signed in, nothing replaced
