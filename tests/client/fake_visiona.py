"""visionA's agent-facing deployment endpoints, as the deployments contract fixes them.

A real HTTP server (``http.server`` on a free loopback port) so the agent's
downloads go over real sockets. It holds deployments in memory and answers:

- ``POST /api/agent/heartbeat``: ``{"device_id", ..., "deployments": [work items]}``,
  and ``GET /api/agent/me``;
- ``GET /api/agent/deployments``: ``{"deployments": [work items]}`` (pending,
  downloading, verifying; oldest first; at most 20);
- ``GET /api/agent/deployments/<id>/file``: the bytes, with a single ``Range:
  bytes=N-`` / ``bytes=N-M`` (206 + Content-Range; 416 + ``bytes */SIZE``), ``If-Range``
  with the ETag ``"<sha256>"`` (another validator: 200 and the whole file),
  ``Accept-Ranges``, ``ETag``, ``Content-Length``; another device's token: 404
  ``not_found``; a final deployment: 409 ``deployment_finished``;
- ``POST /api/agent/deployments/<id>/state``: the contract's transitions; 409
  ``deployment_cancelled`` / ``deployment_finished`` / ``invalid_transition``; 404.

Knobs on a deployment make the network misbehave: ``cut_at`` (drop the connection
once that many bytes of the file were sent), ``pause_at`` (hold there until
``resume`` is set), ``corrupt`` (flip one byte of what is sent), ``ignore_range``
(answer 200 to everything), ``fail_file`` / ``fail_reports`` (statuses to answer
first), ``redirects`` (Locations to answer with 302, one per file request, to an agent
that accepts presigned: the S3 storage's way, tests/client/fake_bucket.py). It counts
the file bytes it sent (``served``, and ``served_per_request``: written to the socket,
so a piece written just as the agent went away counts too) and keeps each request's
headers.

The user's side (``visiona run``, ``visiona convert … --run-on``: models, devices,
runs) is tests/client/fake_visiona_runs.py, whose handler this one extends.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.client.fake_visiona_runs import USER_TOKEN, UserHandler, UserSide

DEVICE_TOKEN = "vad_test-device-token"
OTHER_TOKEN = "vad_another-device-token"
ACTIVE = ("pending", "downloading", "verifying")
FINAL = ("installed", "failed", "cancelled")
ALLOWED = {
    "pending": {"downloading", "failed"},
    "downloading": {"downloading", "verifying", "failed"},
    "verifying": {"downloading", "verifying", "installed", "failed"},
}
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
_FILE = re.compile(r"^/api/agent/deployments/([0-9a-f-]{36})/file$")
_STATE = re.compile(r"^/api/agent/deployments/([0-9a-f-]{36})/state$")


def nef_bytes(size: int, seed: str = "model") -> bytes:
    """A NEF-shaped file: content, then the big-endian CRC-32 of that content."""
    blocks = (size - 4) // 32 + 1
    body = b"".join(hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(blocks))
    body = body[: size - 4]
    return body + zlib.crc32(body).to_bytes(4, "big")


@dataclass
class Deployment:
    data: bytes
    name: str = "Person detector"
    model_id: int = 7
    chips: tuple[str, ...] = ("KL720",)
    token: str = DEVICE_TOKEN
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "pending"
    sha256: str = ""
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds")
    )
    events: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    served: int = 0
    served_per_request: list[int] = field(default_factory=list)
    cut_at: int | None = None
    pause_at: int | None = None
    resume: threading.Event = field(default_factory=threading.Event)
    corrupt: bool = False
    ignore_range: bool = False
    force_416: int = 0
    # A broken server: its next 206 starts this many bytes before what was asked
    # (and says so in Content-Range).
    range_shift: int = 0
    fail_file: list[int] = field(default_factory=list)
    fail_reports: dict[str, list[int]] = field(default_factory=dict)
    before_file: Callable[[Deployment], None] | None = None  # called on each file request
    redirects: list[str] = field(default_factory=list)
    kind: str = "install"
    remove: dict | None = None  # a rollback's model to take off

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()

    def work_item(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "model": {
                "id": self.model_id,
                "name": self.name,
                "sha256": self.sha256,
                "size_bytes": len(self.data),
                "chips": list(self.chips),
            },
            "download_url": f"/api/agent/deployments/{self.id}/file",
            "kind": self.kind,
            "rollback": {"remove": self.remove} if self.kind == "rollback" else None,
            "created_at": self.created_at,
        }

    def states(self) -> list[str]:
        return [event["state"] for event in self.events]


class FakeVisiona(UserSide):
    def __init__(self) -> None:
        super().__init__()
        self.deployments: dict[str, Deployment] = {}
        self.list_calls = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, deployment: Deployment) -> Deployment:
        with self.lock:
            self.deployments[deployment.id] = deployment
        return deployment

    def cancel(self, deployment: Deployment) -> None:
        with self.lock:
            deployment.state = "cancelled"
            deployment.events.append({"state": "cancelled"})

    def work_items(self, token: str) -> list[dict[str, Any]]:
        with self.lock:
            mine = [d for d in self.deployments.values() if d.token == token and d.state in ACTIVE]
            mine.sort(key=lambda d: d.created_at)
            return [d.work_item() for d in mine[:20]]

    def __enter__(self) -> FakeVisiona:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for deployment in self.deployments.values():
            deployment.resume.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(UserHandler):
    @property
    def fake(self) -> FakeVisiona:
        return self.server.fake  # type: ignore[attr-defined]

    def _deployment(self, pattern: re.Pattern) -> Deployment | None:
        match = pattern.match(self.path)
        deployment = self.fake.deployments.get(match.group(1)) if match else None
        if deployment is None or deployment.token != self._token():
            self._error(404, "not_found")
            return None
        return deployment

    def do_GET(self) -> None:
        if self._token() == USER_TOKEN:
            self._user_get(urlsplit(self.path).path)
            return
        if self._token() not in (DEVICE_TOKEN, OTHER_TOKEN):
            self._error(401, "device_token_invalid")
            return
        if self.path == "/api/agent/me":
            me = {"name": "demo", "connection_status": "online", "last_seen_at": None}
            self._json(200, me)
            return
        if self.path == "/api/agent/deployments":
            self.fake.list_calls += 1
            self._json(200, {"deployments": self.fake.work_items(self._token())})
            return
        deployment = self._deployment(_FILE)
        if deployment is not None:
            self._file(deployment)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self._token() == USER_TOKEN:
            self._user_post(urlsplit(self.path).path, raw)
            return
        body = json.loads(raw or b"{}")
        if self._token() not in (DEVICE_TOKEN, OTHER_TOKEN):
            self._error(401, "device_token_invalid")
            return
        if self.path == "/api/agent/heartbeat":
            answer = {
                "device_id": "d1",
                "connection_status": "online",
                "heartbeat_interval_seconds": 1,
                "deployments": self.fake.work_items(self._token()),
            }
            self._json(200, answer)
            return
        deployment = self._deployment(_STATE)
        if deployment is not None:
            self._report(deployment, body)

    def _report(self, deployment: Deployment, body: dict) -> None:
        new = body.get("state")
        failures = deployment.fail_reports.get(new) or []
        if failures:
            self._error(failures.pop(0), "busy")
            return
        with self.fake.lock:
            current = deployment.state
            if current == "cancelled":
                status, code = 409, "deployment_cancelled"
            elif current in FINAL:
                status, code = (200, "") if new == current else (409, "deployment_finished")
            elif new not in ALLOWED[current]:
                status, code = 409, "invalid_transition"
            else:
                status, code = 200, ""
                deployment.state = new
                deployment.events.append({"state": new, **body})
        if status != 200:
            self._error(status, code)
            return
        self._json(200, {"id": deployment.id, "state": deployment.state})

    def _file(self, deployment: Deployment) -> None:
        if deployment.before_file is not None:
            deployment.before_file(deployment)
        if deployment.state in FINAL:
            self._error(409, "deployment_finished")
            return
        deployment.requests.append(dict(self.headers.items()))
        if deployment.fail_file:
            self._error(deployment.fail_file.pop(0), "busy")
            return
        accepts = self.headers.get("X-Visiona-Agent-Accepts", "").split()
        if deployment.redirects and "presigned" in accepts:
            self.send_response(302)
            self.send_header("Location", deployment.redirects.pop(0))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size, etag = len(deployment.data), f'"{deployment.sha256}"'
        start, end, status = 0, size - 1, 200
        match = _RANGE.match(self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        if match and not deployment.ignore_range and (if_range is None or if_range == etag):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            if start >= size or deployment.force_416 or start > end:
                deployment.force_416 = max(0, deployment.force_416 - 1)
                self._error(416, "range_not_satisfiable", {"Content-Range": f"bytes */{size}"})
                return
            status = 206
            if deployment.range_shift:
                start, deployment.range_shift = max(0, start - deployment.range_shift), 0
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        deployment.served_per_request.append(0)
        self._send_bytes(deployment, start, end + 1)

    def _send_bytes(self, deployment: Deployment, start: int, stop: int) -> None:
        data = bytearray(deployment.data)
        if deployment.corrupt:
            data[len(data) // 3] ^= 0xFF
        position = start
        while position < stop:
            if deployment.cut_at is not None and position >= deployment.cut_at:
                deployment.cut_at = None
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)  # cut: the client sees fewer bytes than promised
                return
            if deployment.pause_at is not None and position >= deployment.pause_at:
                deployment.pause_at = None
                deployment.resume.wait(20)
            limit = stop
            for mark in (deployment.cut_at, deployment.pause_at):
                if mark is not None and position < mark:
                    limit = min(limit, mark)
            piece = bytes(data[position : min(limit, position + 64 * 1024)])
            try:
                self.wfile.write(piece)
            except OSError:
                return
            deployment.served += len(piece)
            deployment.served_per_request[-1] += len(piece)
            position += len(piece)
