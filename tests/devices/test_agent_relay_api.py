"""ANY /api/devices/<id>/agent/<path>: owner only, streamed, and harmless on our origin."""

from __future__ import annotations

import uuid

import pytest
import responses
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client

from devices import relay_client, tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"


@pytest.fixture
def device(alice_device):
    return alice_device.device


@pytest.fixture
def connected(device):
    tunnel_registry.register(
        device_id=str(device.pk), node_url=NODE, connection_id=uuid.uuid4().hex
    )
    return device


@pytest.fixture
def node():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def agent_url(device, path: str = "api/system/deps") -> str:
    return f"/api/devices/{device.pk}/agent/{path}"


def node_url(device, path: str = "api/system/deps") -> str:
    return f"{NODE}/devices/{device.pk}/{path}"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_owner_reaches_the_devices_local_api(alice_client, connected, node, settings):
    node.get(node_url(connected), json={"driver": {"version": "1.3.0"}})
    response = alice_client.get(
        agent_url(connected) + "?verbose=1",
        HTTP_ACCEPT="application/json",
        HTTP_X_REQUEST_ID="trace-12345678",
    )
    assert response.status_code == 200
    assert response.streaming
    assert body_of(response) == b'{"driver": {"version": "1.3.0"}}'
    sent = node.calls[0].request
    assert sent.url == node_url(connected) + "?verbose=1"
    assert sent.headers["X-Relay-Secret"] == settings.RELAY_INTERNAL_SECRET
    assert sent.headers["X-Request-Id"] == "trace-12345678"
    assert "Cookie" not in sent.headers


def test_another_users_device_is_not_found(bob_client, connected, node):
    response = bob_client.get(agent_url(connected))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"
    assert len(node.calls) == 0


def test_an_unknown_device_is_not_found(alice_client, node):
    response = alice_client.get(f"/api/devices/{uuid.uuid4()}/agent/api/system/deps")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "device_not_found"


def test_a_device_without_a_tunnel_is_offline_at_once(alice_client, device, node):
    response = alice_client.get(agent_url(device), HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "device_offline"
    assert error["request_id"] == response["X-Request-Id"]
    assert len(node.calls) == 0


def test_a_signed_out_visitor_is_refused(client, connected, node):
    assert client.get(agent_url(connected)).status_code == 401
    posted = client.post(agent_url(connected), data=b"x", content_type="text/plain")
    assert posted.status_code == 401
    assert len(node.calls) == 0


def test_an_answer_cannot_set_a_cookie_or_run_script_here(alice_client, connected, node):
    node.get(
        node_url(connected, "index.html"),
        body=b"<script>document.cookie='x=1'</script>",
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": "sessionid=from-the-device; Path=/",
            "Content-Security-Policy": "script-src 'unsafe-inline'",
            "Cache-Control": "public, max-age=86400",
            "Access-Control-Allow-Origin": "*",
            "X-Frame-Options": "ALLOWALL",
        },
    )
    response = alice_client.get(agent_url(connected, "index.html"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    policy = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in response
    assert all(cookie.value != "from-the-device" for cookie in response.cookies.values())
    assert "from-the-device" not in str(response.serialize_headers())


def test_an_answer_without_a_type_is_bytes_not_html(alice_client, connected, node):
    node.get(node_url(connected), body=b"<b>hi</b>", content_type=None)
    response = alice_client.get(agent_url(connected))
    assert response["Content-Type"] == "application/octet-stream"


def test_writes_need_the_csrf_token_and_their_body_is_streamed_unparsed(
    alice, connected, node, monkeypatch
):
    received = {}

    def agent(request):
        received["body"] = b"".join(request.body)
        received["type"] = request.headers["Content-Type"]
        return (201, {"Content-Type": "application/json"}, b'{"stored": true}')

    node.add_callback("POST", node_url(connected, "api/models"), callback=agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    form = b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nvalue\r\n--b--\r\n'
    url = agent_url(connected, "api/models")

    refused = client.post(url, data=form, content_type="multipart/form-data; boundary=b")
    assert refused.status_code == 403
    assert len(node.calls) == 0

    def read_whole(self):
        raise AssertionError("the relayed body was read whole or parsed")

    monkeypatch.setattr(WSGIRequest, "body", property(read_whole))
    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", read_whole)
    client.get("/devices/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, data=form, content_type="multipart/form-data; boundary=b", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201
    assert body_of(response) == b'{"stored": true}'
    assert received == {"body": form, "type": "multipart/form-data; boundary=b"}
    assert "X-CSRFToken" not in node.calls[0].request.headers


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options", "head"])
def test_every_method_is_relayed(alice_client, connected, node, method):
    node.add(method.upper(), node_url(connected, "api/thing"), status=204)
    response = getattr(alice_client, method)(agent_url(connected, "api/thing"))
    assert response.status_code == 204
    assert node.calls[0].request.method == method.upper()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(
    alice_client, connected, node, settings
):
    settings.RELAY_MAX_BODY_BYTES = 10
    response = alice_client.post(agent_url(connected), data=b"x" * 11, content_type="text/plain")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert len(node.calls) == 0


def test_a_body_without_a_length_is_refused(alice_client, connected, node):
    response = alice_client.generic(
        "POST", agent_url(connected), data=b"", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert response.json()["error"]["code"] == "length_required"
    assert len(node.calls) == 0


@pytest.mark.parametrize("path", ["a/../b", "a/%2e%2e/%2E%2E/x", "./x"])
def test_dot_segments_are_refused(alice_client, connected, node, path):
    response = alice_client.get(agent_url(connected, path))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert len(node.calls) == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [(502, "device_unreachable"), (504, "device_timeout"), (503, "device_offline")],
)
def test_the_relays_errors_reach_the_client_in_the_envelope(
    alice_client, connected, node, status, code
):
    node.get(node_url(connected), status=status, json={}, headers={"X-Relay-Error": code})
    response = alice_client.get(agent_url(connected))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_node_that_is_gone_makes_the_device_unreachable(alice_client, connected, node):
    import requests

    node.get(node_url(connected), body=requests.ConnectionError("refused"))
    response = alice_client.get(agent_url(connected))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "device_unreachable"


def test_an_answer_cut_short_is_not_presented_as_complete(
    alice_client, connected, node, monkeypatch
):
    node.get(node_url(connected), body=b"partial")

    def broken(self, *args, **kwargs):
        yield b"part"
        raise ConnectionResetError("tunnel lost")

    monkeypatch.setattr("urllib3.response.HTTPResponse.stream", broken)
    response = alice_client.get(agent_url(connected))
    assert response.status_code == 200
    with pytest.raises(relay_client.RelayAnswerInterrupted):
        body_of(response)


def test_a_failing_registry_is_a_clear_503(alice_client, device, node, monkeypatch):
    def down(device_ids):
        raise ConnectionError("registry down")

    monkeypatch.setattr(tunnel_registry, "lookup_many", down)
    response = alice_client.get(agent_url(device))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "tunnel_unavailable"
