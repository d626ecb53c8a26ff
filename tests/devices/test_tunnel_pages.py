"""The device pages show the live tunnel and what a connected device reports through it."""

from __future__ import annotations

import uuid

import pytest
import requests
import responses
from django.utils import translation

from devices import tunnel, tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"
DEPS = {
    "demo": True,
    "driver": {"name": "Kneron USB driver (demo)", "version": "1.3.0"},
    "firmware": {"version": "2.2.0", "chip": "KL720"},
    "toolchain": {"kneron_plus": "3.1.2"},
    "dongles": [{"chip": "KL720", "serial": "DEMO-KL720-1234", "firmware_version": "2.2.0"}],
}


@pytest.fixture
def device(alice_device):
    return alice_device.device


@pytest.fixture
def node():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def connect(device) -> None:
    tunnel_registry.register(
        device_id=str(device.pk), node_url=NODE, connection_id=uuid.uuid4().hex
    )


def deps_url(device) -> str:
    return f"{NODE}/devices/{device.pk}/api/system/deps"


def test_a_connected_device_shows_its_versions_and_dongles(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), json=DEPS)
    for path in (f"/devices/{device.pk}/", "/devices/"):
        page = alice_client.get(path).content.decode()
        assert "Connected" in page
        assert "Not connected" not in page
        assert "DEMO-KL720-1234" in page or path == "/devices/"
        assert "Firmware 2.2.0" in page
    detail = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "1.3.0" in detail and "3.1.2" in detail
    assert "Demo device" in detail


def test_what_the_device_reports_is_named_in_the_pages_language(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), json={**DEPS, "npu_clock": "500 MHz"})
    page = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "<dt>Driver</dt><dd>1.3.0</dd>" in page
    assert "<dt>Kneron PLUS</dt><dd>3.1.2</dd>" in page
    assert "<dt>npu_clock</dt><dd>500 MHz</dd>" in page  # unknown: as the device says it
    alice_client.cookies["django_language"] = "zh-hant"
    page = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "<dt>驅動程式</dt><dd>1.3.0</dd>" in page and "<dt>韌體</dt><dd>2.2.0</dd>" in page


def test_an_offline_device_says_so_and_how_to_start_its_agent(alice_client, device, node):
    page = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "Not connected" in page
    assert "cannot report its drivers" in page
    assert "visiona-agent" in page and "run" in page
    assert "Not connected" in alice_client.get("/devices/").content.decode()
    assert len(node.calls) == 0


def test_a_device_that_does_not_answer_leaves_the_page_usable(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), body=requests.ReadTimeout("slow"))
    response = alice_client.get(f"/devices/{device.pk}/")
    assert response.status_code == 200
    assert "did not answer in time" in response.content.decode()
    assert "Did not answer in time." in alice_client.get("/devices/").content.decode()


def test_an_answer_in_another_shape_is_not_shown(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), body=b"<html>not json</html>", content_type="text/html")
    page = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "not in a form this page can show" in page
    assert "<html>not json" not in page


def test_the_devices_words_are_escaped(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), json={"driver": {"version": "<script>x()</script>"}, "dongles": []})
    page = alice_client.get(f"/devices/{device.pk}/").content.decode()
    assert "<script>x()" not in page
    assert "&lt;script&gt;x()" in page


def test_a_slow_device_costs_the_page_its_timeout_only(alice_client, device, node, monkeypatch):
    connect(device)
    monkeypatch.setattr(tunnel, "PAGE_REPORT_TIMEOUT", 0.2)

    node.get(deps_url(device), json=DEPS)
    # The bound is the read timeout given to the client: a real socket honours it.
    seen = {}
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen["timeout"] = kwargs["timeout"]
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    alice_client.get(f"/devices/{device.pk}/")
    assert seen["timeout"][1] == 0.2


def test_the_tunnel_state_is_translated(alice_client, device, node):
    connect(device)
    node.get(deps_url(device), json=DEPS)
    with translation.override("zh-hant"):
        page = alice_client.get(
            f"/devices/{device.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant"
        ).content.decode()
    assert "已連線" in page
    assert "裝置回報的資訊" in page
