"""What the end-to-end deployment tests share: the live server, the relay, real demo agents.

``FileTap`` wraps visionA's own file endpoint (``deployment_file.file_response``) in
the live server's process, so a test counts the bytes visionA sent for each request,
cuts an answer at a given byte, or holds it there. A test-only wrapper: the product
has no such knob.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

from django.http import StreamingHttpResponse

from deployments import file as deployment_file
from deployments.models import Deployment
from tests.e2e.conftest import VisionA
from tests.waiting import wait_for


class FileTap:
    """Counts (and can cut or hold) what visionA's file endpoint sends."""

    def __init__(self, monkeypatch) -> None:
        self.original = deployment_file.file_response
        self.requests: list[dict] = []
        self.cut_at: int | None = None  # the first answer ends after this many file bytes
        self.hold_at: int | None = None  # the first answer waits here for ``release``
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        monkeypatch.setattr(deployment_file, "file_response", self)

    @property
    def served(self) -> int:
        return sum(entry["served"] for entry in self.requests)

    def __call__(self, request, deployment):
        response = self.original(request, deployment)
        with self._lock:
            entry = {"range": request.headers.get("Range"), "status": response.status_code}
            entry["served"] = 0
            first = not self.requests
            self.requests.append(entry)
        if response.status_code not in (200, 206):
            return response
        stop = self.cut_at if first else None
        hold = self.hold_at if first else None
        tapped = StreamingHttpResponse(
            self._count(response, entry, stop=stop, hold=hold), status=response.status_code
        )
        for name, value in response.items():
            tapped[name] = value
        if stop is not None or hold is not None:
            # Without a length the server closes the connection where the body ends:
            # a cut after ``stop`` bytes of a longer answer.
            del tapped["Content-Length"]
        return tapped

    def _count(self, response, entry: dict, *, stop: int | None, hold: int | None) -> Iterator:
        try:
            for chunk in response.streaming_content:
                if stop is not None:
                    chunk = chunk[: stop - entry["served"]]
                if hold is not None and entry["served"] + len(chunk) >= hold:
                    head = chunk[: hold - entry["served"]]
                    entry["served"] += len(head)
                    yield head
                    self.held.set()
                    self.release.wait(60)
                    return  # the held answer ends here (the agent asks again)
                entry["served"] += len(chunk)
                yield chunk
                if stop is not None and entry["served"] >= stop:
                    return
        finally:
            response.close()


def deploy(http: VisionA, model_id: int, *device_ids: str):
    return http.post(
        "/api/deployments", json={"model_id": model_id, "device_ids": list(device_ids)}
    )


def wait_state(deployment_id: str, *states: str, timeout: float = 60.0) -> Deployment:
    def reached():
        deployment = Deployment.objects.get(pk=deployment_id)
        return deployment if deployment.state in states else None

    return wait_for(reached, timeout=timeout, interval=0.1)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(models_dir: Path) -> list[dict]:
    return json.loads((models_dir / "manifest.json").read_text())


def stored_bytes(model) -> bytes:
    with model.file.open("rb") as handle:
        return handle.read()
