"""The demo stand-in of the local device API, over real HTTP, labelled as a demo."""

from __future__ import annotations

import pytest
import requests
from visiona_client.demo_device import DemoDevice


@pytest.fixture
def demo():
    with DemoDevice() as device:
        yield device


def get(demo, path, method="GET"):
    return requests.request(method, demo.url + path, timeout=5)


def test_it_listens_on_loopback_only(demo):
    assert demo.url.startswith("http://127.0.0.1:")


def test_deps_name_versions_and_the_attached_dongle(demo):
    response = get(demo, "/api/system/deps")
    assert response.status_code == 200
    assert response.headers["X-Visiona-Demo"] == "1"
    body = response.json()
    assert body["demo"] is True
    assert body["driver"]["version"] and body["firmware"]["version"]
    assert body["toolchain"]
    [dongle] = body["dongles"]
    assert dongle["chip"] == "KL720"
    assert dongle["serial"].startswith("DEMO-KL720-")


def test_device_info(demo):
    response = get(demo, "/api/device/info")
    assert response.status_code == 200
    assert response.headers["X-Visiona-Demo"] == "1"
    assert response.json()["demo"] is True


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/nope", 404), ("POST", "/api/system/deps", 405)]
)
def test_anything_else_is_a_labelled_json_error(demo, method, path, status):
    response = get(demo, path, method)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Visiona-Demo"] == "1"
    assert response.json()["demo"] is True
    assert response.json()["error"]["code"]


def test_it_answers_concurrent_requests(demo):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: get(demo, "/api/device/info").status_code, range(16)))
    assert codes == [200] * 16


def test_blob_streams_the_zeros_asked_for(demo):
    response = requests.get(demo.url + "/api/demo/blob?bytes=200000", timeout=5)
    assert response.status_code == 200
    assert response.headers["X-Visiona-Demo"] == "1"
    assert response.content == bytes(200000)
    assert get(demo, "/api/demo/blob?bytes=-1").status_code == 400
    assert get(demo, "/api/demo/blob?bytes=1&delay=nope").status_code == 400


def test_echo_says_what_it_was_sent(demo):
    import hashlib

    body = b"x" * 100_000
    sized = requests.post(demo.url + "/api/demo/echo", data=body, timeout=5).json()
    chunked = requests.post(
        demo.url + "/api/demo/echo", data=iter([body[:10], body[10:]]), timeout=5
    )
    expected = {"demo": True, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert sized == expected
    assert chunked.json() == expected


def test_it_lists_the_models_installed_in_its_models_folder(tmp_path):
    import json

    folder = tmp_path / "models"
    folder.mkdir()
    entry = {
        "name": "Person detector",
        "file": "person-detector-7.nef",
        "sha256": "a" * 64,
        "size_bytes": 1234,
        "installed_at": "2026-01-02T03:04:05+00:00",
        "deployment_id": "0b6f7a39-8a3c-4c57-a3a9-4d2f6c1e0d11",
        "model_id": 7,
    }
    (folder / "manifest.json").write_text(json.dumps([entry]))
    with DemoDevice(models_dir=folder) as device:
        response = get(device, "/api/models")
    assert response.status_code == 200
    assert response.headers["X-Visiona-Demo"] == "1"
    assert response.json() == {"demo": True, "models": [entry]}


def test_without_a_models_folder_it_lists_none(demo):
    assert get(demo, "/api/models").json() == {"demo": True, "models": []}


def _exchange(sock, request: bytes) -> bytes:
    """Send one request and read one answer (its head, then Content-Length bytes)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        .split(b":")[1]
        .strip()
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_it_keeps_the_connection_between_requests(demo):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(demo.url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        request = b"GET /api/system/deps HTTP/1.1\r\nHost: demo\r\n\r\n"
        for _ in range(3):
            head = _exchange(sock, request)
            assert head.startswith(b"HTTP/1.1 200")
            assert b"connection: close" not in head.lower()


def test_a_body_it_did_not_read_closes_the_connection(demo):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(demo.url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        # A body that looks like a request: it must never be answered as one.
        body = b"GET /api/system/deps HTTP/1.1\r\nHost: demo\r\n\r\n"
        head = _exchange(
            sock,
            b"PUT /api/system/deps HTTP/1.1\r\nHost: demo\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body,
        )
        assert head.startswith(b"HTTP/1.1 405")
        assert b"connection: close" in head.lower()
        assert sock.recv(65536) == b""  # closed, nothing more answered
