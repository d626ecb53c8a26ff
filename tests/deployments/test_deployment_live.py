"""The server's half of the whole path, over real sockets (the live server).

A minimal agent written here (``requests``, as the agent in client/ does) learns
of its work from the heartbeat, downloads with its device token, is cut at half,
resumes with ``Range`` + ``If-Range`` and receives only the rest, and reports each
state. The same for ten devices at once. The real agent (client/) over the real
relay is tested in tests/relay once both sides meet (docs/deployments.md).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
import requests
from django.db import connections

from deployments import services
from deployments.models import Deployment

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SIZE = 8 * 1024 * 1024 + 123  # not a whole number of chunks


class MiniAgent:
    def __init__(self, server: str, token: str) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.received = 0

    def heartbeat(self) -> list[dict]:
        response = self.session.post(self.server + "/api/agent/heartbeat", json={}, timeout=10)
        response.raise_for_status()
        return response.json()["deployments"]

    def report(self, item: dict, state: str, **values) -> requests.Response:
        url = f"{self.server}/api/agent/deployments/{item['id']}/state"
        return self.session.post(url, json={"state": state, **values}, timeout=10)

    def download(self, item: dict, part: Path, *, stop_at: int | None = None) -> int:
        """Append to ``part`` from where it ends; stop (a cut) after ``stop_at`` bytes."""
        have = part.stat().st_size if part.exists() else 0
        headers = {}
        if have:
            headers = {"Range": f"bytes={have}-", "If-Range": f'"{item["model"]["sha256"]}"'}
        url = self.server + item["download_url"]
        with self.session.get(url, headers=headers, stream=True, timeout=30) as response:
            assert response.status_code == (206 if have else 200), response.status_code
            mode = "ab" if response.status_code == 206 else "wb"
            with part.open(mode) as out:
                for chunk in response.iter_content(256 * 1024):
                    self.received += len(chunk)
                    out.write(chunk)
                    if stop_at is not None and part.stat().st_size >= stop_at:
                        return response.status_code  # closing the response cuts it
        return response.status_code

    def deploy(self, item: dict, folder: Path, *, cut_at: int | None = None) -> bytes:
        part = folder / f"{item['id']}.part"
        assert self.report(item, "downloading", bytes_done=0).status_code == 200
        if cut_at is not None:
            self.download(item, part, stop_at=cut_at)
            self.report(item, "downloading", bytes_done=part.stat().st_size)
        assert self.download(item, part) == (206 if cut_at else 200)
        assert self.report(item, "verifying").status_code == 200
        data = part.read_bytes()
        if hashlib.sha256(data).hexdigest() != item["model"]["sha256"]:
            self.report(item, "failed", error_code="checksum_mismatch")
        else:
            assert self.report(item, "installed").status_code == 200
        return data


def stored(model) -> bytes:
    with model.file.open("rb") as stream:
        return stream.read()


def test_an_offline_device_gets_it_on_its_next_heartbeat_and_a_cut_resumes(
    live_server, alice, make_model, alice_device, tmp_path
):
    model = make_model(alice, "big", chips=("KL720",), size=SIZE)
    # Made while the device has never been seen (offline, no tunnel).
    created = services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
    )[0].deployment
    agent = MiniAgent(live_server.url, alice_device.token)
    (item,) = agent.heartbeat()
    assert item["id"] == str(created.pk)
    half = SIZE // 2
    data = agent.deploy(item, tmp_path, cut_at=half)
    assert data == stored(model)
    # Only the rest crossed after the cut (plus what was in flight when it was cut).
    assert agent.received - SIZE < 512 * 1024
    deployment = Deployment.objects.get(pk=created.pk)
    assert deployment.state == "installed"
    assert list(deployment.events.values_list("state", flat=True)) == [
        "pending",
        "downloading",
        "verifying",
        "installed",
    ]
    assert agent.heartbeat() == []


def test_a_range_through_the_live_server_sends_only_the_rest(
    live_server, alice, make_model, alice_device
):
    model = make_model(alice, "big", chips=("KL720",), size=SIZE)
    item = services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
    )[0].deployment
    session = requests.Session()
    session.trust_env = False
    url = f"{live_server.url}/api/agent/deployments/{item.pk}/file"
    headers = {"Authorization": f"Bearer {alice_device.token}", "Range": f"bytes={SIZE - 1000}-"}
    with session.get(url, headers=headers, stream=True, timeout=30) as response:
        raw = response.raw.read()
    assert response.status_code == 206
    assert len(raw) == 1000
    assert raw == stored(model)[-1000:]
    headers["Range"] = f"bytes={SIZE}-"
    assert session.get(url, headers=headers, timeout=30).status_code == 416


# SQLite's one writer at a time answers concurrent reports "database is locked" (503).
@pytest.mark.postgres
def test_ten_devices_at_once(live_server, alice, make_model, alice_devices, tmp_path):
    model = make_model(alice, "shared", chips=("KL720",), size=2 * 1024 * 1024)
    devices = alice_devices(10)
    results = services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[d.device.pk for d in devices]
    )
    assert [r.outcome for r in results] == ["created"] * 10
    expected = stored(model)
    outcomes: dict[int, object] = {}

    def run(index: int, pairing) -> None:
        try:
            agent = MiniAgent(live_server.url, pairing.token)
            (item,) = agent.heartbeat()
            folder = tmp_path / f"agent-{index}"
            folder.mkdir()
            outcomes[index] = agent.deploy(item, folder) == expected
        except Exception as exc:  # shown by the assertion below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == dict.fromkeys(range(10), True)
    states = set(Deployment.objects.values_list("state", flat=True))
    assert states == {"installed"}
