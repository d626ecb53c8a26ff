"""The relay node's HTTP client: what crosses, how it streams, how failures map."""

from __future__ import annotations

import io
import logging

import pytest
import requests
import responses

from devices import errors, relay_client

NODE = "http://relay-node.internal:3801"
DEVICE = "0b7c6a52-3f3e-4d7e-9a53-2b1c1f0e9d11"
TARGET = f"{NODE}/devices/{DEVICE}/api/system/deps"


@pytest.fixture(autouse=True)
def relay_settings(settings):
    settings.RELAY_INTERNAL_SECRET = "s" * 50
    settings.RELAY_MAX_BODY_BYTES = 1024
    settings.RELAY_REQUEST_TIMEOUT_SECONDS = 30
    return settings


class Stream:
    """A request body read as Django's LimitedStream is: ``read(n)`` pieces."""

    def __init__(self, data: bytes, *, fail_after: int | None = None) -> None:
        self._data = io.BytesIO(data)
        self.reads: list[int] = []
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self.fail_after is not None and self._data.tell() >= self.fail_after:
            raise OSError("client went away")
        return self._data.read(size if self.fail_after is None else min(size, self.fail_after))


def call(**overrides) -> relay_client.RelayedAnswer:
    arguments = {
        "node_url": NODE,
        "device_id": DEVICE,
        "method": "GET",
        "path": "api/system/deps",
        "headers": {},
        "request_id": "req-12345678",
    }
    return relay_client.relay(**(arguments | overrides))


@responses.activate
def test_it_sends_the_secret_and_request_id_and_never_the_users_credentials():
    responses.get(TARGET, json={"ok": True})
    call(
        query="verbose=1&x=%2F",
        headers={
            "Cookie": "sessionid=secret",
            "Authorization": "Bearer user-token",
            "X-CSRFToken": "csrf-secret",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "only for the next hop",
            "Keep-Alive": "timeout=5",
            "Te": "trailers",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic cHJveHk=",
            "X-Relay-Secret": "forged",
            "X-Request-Id": "forged-id-1234",
            "Host": "visiona.example.com",
            "Accept": "application/json",
            "X-Device-Option": "kept",
        },
    )
    sent = responses.calls[0].request
    assert sent.url == TARGET + "?verbose=1&x=%2F"
    assert sent.headers["X-Relay-Secret"] == "s" * 50
    assert sent.headers["X-Request-Id"] == "req-12345678"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["X-Device-Option"] == "kept"
    for name in (
        "Cookie",
        "Authorization",
        "X-CSRFToken",
        "X-Hop",
        "Keep-Alive",
        "Te",
        "Upgrade",
        "Proxy-Authorization",
    ):
        assert name not in sent.headers, name
    assert "keep-alive, X-Hop" not in sent.headers.get("Connection", "")
    assert "visiona.example.com" not in sent.headers.get("Host", "")


@responses.activate
def test_the_body_is_streamed_in_reads_with_its_exact_length():
    received = {}

    def agent(request):
        received["length"] = request.headers["Content-Length"]
        received["body"] = b"".join(request.body)  # consumed here, as the socket would
        return (200, {}, b"stored")

    responses.add_callback("POST", TARGET, callback=agent)
    stream = Stream(b"x" * 1000)
    answer = call(
        method="POST",
        body=stream,
        content_length=1000,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert received == {"length": "1000", "body": b"x" * 1000}
    assert stream.reads and all(size <= relay_client.CHUNK_SIZE for size in stream.reads)
    assert b"".join(answer) == b"stored"


@responses.activate
def test_a_body_cut_short_aborts_the_relayed_request():
    def agent(request):
        b"".join(request.body)
        return (200, {}, b"must not be reached")

    responses.add_callback("POST", TARGET, callback=agent)
    with pytest.raises(errors.RelayRequestInterrupted):
        call(method="POST", body=Stream(b"x" * 100), content_length=500)
    with pytest.raises(errors.RelayRequestInterrupted):
        call(method="POST", body=Stream(b"x" * 500, fail_after=100), content_length=500)


@responses.activate
def test_a_body_over_the_limit_is_refused_before_anything_is_sent():
    with pytest.raises(errors.RelayBodyTooLarge) as caught:
        call(method="POST", body=Stream(b"x" * 2000), content_length=2000)
    assert caught.value.status == 413
    assert caught.value.code == "payload_too_large"
    assert len(responses.calls) == 0


@responses.activate
def test_the_answer_keeps_its_status_and_content_but_nothing_that_acts_on_our_origin():
    responses.get(
        TARGET,
        status=201,
        body=b"<script>alert(1)</script>",
        headers={
            "Content-Type": "text/html",
            "ETag": '"v1"',
            "X-Device-Count": "2",
            "Set-Cookie": "sessionid=stolen; Path=/",
            "Clear-Site-Data": '"cookies"',
            "Access-Control-Allow-Origin": "https://evil.example",
            "Access-Control-Allow-Credentials": "true",
            "Content-Security-Policy": "script-src *",
            "Cache-Control": "public, max-age=31536000",
            "Strict-Transport-Security": "max-age=0",
            "Refresh": "0; url=https://evil.example",
            "Connection": "close, X-Hop",
            "X-Hop": "hop",
            "Keep-Alive": "timeout=5",
            "X-Relay-Secret": "echoed",
        },
    )
    answer = call()
    names = {name.lower() for name, _ in answer.headers}
    assert answer.status == 201
    assert {"content-type", "etag", "x-device-count"} <= names
    for dropped in (
        "set-cookie",
        "clear-site-data",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "content-security-policy",
        "cache-control",
        "strict-transport-security",
        "refresh",
        "connection",
        "x-hop",
        "keep-alive",
        "x-relay-secret",
    ):
        assert dropped not in names, dropped
    assert b"".join(answer) == b"<script>alert(1)</script>"


@responses.activate
def test_a_devices_cookie_is_never_sent_again():
    responses.get(TARGET, body=b"", headers={"Set-Cookie": "device=secret; Path=/"})
    other = f"{NODE}/devices/9f0d6a52-3f3e-4d7e-9a53-2b1c1f0e9d22/api"
    responses.get(other, body=b"")
    b"".join(call())
    b"".join(call(device_id="9f0d6a52-3f3e-4d7e-9a53-2b1c1f0e9d22", path="api"))
    b"".join(call())
    assert all("Cookie" not in sent.request.headers for sent in responses.calls)
    assert len(relay_client.session().cookies) == 0


@responses.activate
def test_the_agents_own_errors_are_answers_not_relay_errors():
    responses.get(TARGET, status=404, json={"detail": "no such route on the device"})
    answer = call()
    assert answer.status == 404
    assert b"no such route" in b"".join(answer)


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (503, "device_offline", errors.DeviceOffline),
        (502, "device_unreachable", errors.DeviceUnreachable),
        (504, "device_timeout", errors.DeviceTimeout),
        (413, "payload_too_large", errors.RelayBodyTooLarge),
        (502, "something_new", errors.DeviceUnreachable),
    ],
)
@responses.activate
def test_the_nodes_errors_become_ours(status, code, error):
    body = {"error": {"code": code, "message": "node text", "details": {}, "request_id": "r"}}
    responses.get(TARGET, status=status, json=body, headers={"X-Relay-Error": code})
    with pytest.raises(error) as caught:
        call()
    assert caught.value.status == error.status


@responses.activate
def test_without_a_relay_secret_no_device_is_reachable(settings):
    settings.RELAY_INTERNAL_SECRET = ""
    with pytest.raises(errors.DeviceOffline):
        call()
    assert len(responses.calls) == 0


@responses.activate
def test_a_refused_secret_is_logged_and_the_device_is_unreachable(caplog):
    responses.get(TARGET, status=401, body=b"")
    with (
        caplog.at_level(logging.ERROR, logger="devices.relay"),
        pytest.raises(errors.DeviceUnreachable),
    ):
        call()
    assert "RELAY_INTERNAL_SECRET" in caplog.text
    assert "s" * 50 not in caplog.text


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (requests.ConnectionError("refused"), errors.DeviceUnreachable),
        (requests.ConnectTimeout("no route"), errors.DeviceUnreachable),
        (requests.ReadTimeout("slow"), errors.DeviceTimeout),
    ],
)
@responses.activate
def test_a_node_that_does_not_answer(failure, error):
    responses.get(TARGET, body=failure)
    with pytest.raises(error):
        call()


class _FailingRaw(io.RawIOBase):
    """A socket that delivers some bytes, then breaks."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.sent:
            raise ConnectionResetError("tunnel lost")
        self.sent = True
        buffer[:5] = b"part1"
        return 5


@responses.activate
def test_an_answer_cut_short_raises_instead_of_ending():
    responses.get(TARGET, body=io.BufferedReader(_FailingRaw()))
    answer = call()
    chunks = iter(answer)
    with pytest.raises(relay_client.RelayAnswerInterrupted):
        while next(chunks):
            pass


@pytest.mark.parametrize("path", ["../other/api", "api/../../x", "./api", "api/.", "a\x00b"])
def test_dot_segments_cannot_reach_another_device(path):
    with pytest.raises(errors.RelayPathInvalid):
        relay_client.relay_target(device_id=DEVICE, path=path)


def test_the_path_is_quoted_again():
    target = relay_client.relay_target(device_id=DEVICE, path="api/a b/ü?#", query="q=1")
    assert target == f"/devices/{DEVICE}/api/a%20b/%C3%BC%3F%23?q=1"
