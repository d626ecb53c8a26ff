"""The user's side of the fake visionA (tests/client/fake_visiona.py): what ``visiona
run`` and ``visiona convert … --run-on`` call, with the user token ``USER_TOKEN``.

- ``GET /api/models/``, ``/api/models/<id>``, ``/api/devices/``;
- ``POST /api/runs`` (the multipart body is parsed: ``run_uploads`` keeps each run's
  fields and input names), ``GET /api/runs/<id>`` (pending, then running, then what
  ``run_script`` says: the run's state, latency and agreement, and which inputs the
  device refused, so a test picks how it ends), ``GET /api/runs/<id>/inputs`` (as
  deployments/api/runs.py answers it: ``{"inputs": [...]}``, every input, not paged)
  and ``GET /api/runs/<id>/inputs/<n>/output`` (a small ``.npz``);
- what ``convert … --run-on`` adds: ``POST /api/conversion/init`` (a job, completed at
  once: these tests follow what comes after), ``POST
  /api/conversion/<job>/promote-to-models`` (``promotions`` keeps each request's
  body), ``POST /api/deployments`` and ``GET /api/deployments/<id>`` (pending, then
  downloading, then what ``deployment_script`` says).

``user_paths`` keeps each request's method and path. ``UserHandler`` answers these and
carries the helpers both sides' handlers use (the token, the JSON answers and the error
envelope); the agent's handler builds on it.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

USER_TOKEN = "vap_test-user-token"
RUN_MODEL = {"id": 7, "name": "Person detector", "chips": ["KL720"], "has_reference": True}
RUN_DEVICE = {
    "id": "6f1c1d2e-0000-4000-8000-000000000001",
    "name": "demo-desk",
    "chip": "KL720",
    "connection_status": "connected",
    "last_seen_at": None,
}
_RUN = re.compile(r"^/api/runs/([0-9a-f-]{36})$")
_RUN_INPUTS = re.compile(r"^/api/runs/([0-9a-f-]{36})/inputs$")
_RUN_OUTPUT = re.compile(r"^/api/runs/([0-9a-f-]{36})/inputs/(\d+)/output$")
# An empty zip: an .npz with no arrays (what is saved is not read by these tests).
RUN_OUTPUT_NPZ = b"PK\x05\x06" + b"\x00" * 18
_PROMOTE = re.compile(r"^/api/conversion/([0-9a-f-]{36})/promote-to-models$")
_DEPLOYMENT = re.compile(r"^/api/deployments/([0-9a-f-]{36})$")


@dataclass
class RunScript:
    """How the runs made through ``POST /api/runs`` end (the figures as visionA would
    have computed them)."""

    state: str = "completed"
    latency: dict | None = field(
        default_factory=lambda: {
            "count": 20,
            "p50_ms": 3.0,
            "p90_ms": 4.5,
            "mean_ms": 3.2,
            "min_ms": 2.0,
            "max_ms": 5.0,
            "throughput": 312.5,
        }
    )
    agreement: dict | None = field(
        default_factory=lambda: {
            "cosine": 0.995,
            "cosine_mean": 0.998,
            "max_abs": 0.04,
            "mean_abs": 0.01,
            "top1": 1.0,
            "top5": 1.0,
            "outputs": {},
        }
    )
    error_code: str = ""
    error_message: str = ""
    # The inputs the device refused (by index): their error code and message. When it
    # refused them all, visionA has no latency and no agreement (run_services._complete).
    failed_inputs: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass
class DeploymentScript:
    """How the deployments made through ``POST /api/deployments`` end."""

    state: str = "installed"
    error_code: str = ""
    error_message: str = ""
    failure: dict | None = None  # as deployments/failures.py explains a failed one


class UserSide:
    """The fake's state for the user's requests; ``FakeVisiona`` is one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.run_script = RunScript()
        self.runs: dict[str, dict[str, Any]] = {}
        self.run_uploads: dict[str, dict[str, Any]] = {}  # each run's fields and input names
        self.deployment_script = DeploymentScript()
        self.user_deployments: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.promotions: list[dict[str, Any]] = []
        self.user_paths: list[str] = []  # "GET /api/runs/…", in the order asked


class UserHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> UserSide:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _token(self) -> str:
        value = self.headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else ""

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, headers: dict | None = None) -> None:
        body = {"error": {"code": code, "message": code, "details": {}, "request_id": "r"}}
        self._json(status, body, headers)

    def _user_get(self, path: str) -> None:
        self.fake.user_paths.append(f"GET {path}")
        if path == "/api/models/":
            page = {"count": 1, "next": None, "previous": None, "results": [RUN_MODEL]}
            self._json(200, page)
        elif path == f"/api/models/{RUN_MODEL['id']}":
            self._json(200, RUN_MODEL)
        elif path == "/api/devices/":
            self._json(200, {"devices": [RUN_DEVICE], "online_threshold_seconds": 90})
        elif path == "/api/runs":  # as visionA: newest first, one page here
            state = parse_qs(urlsplit(self.path).query).get("state", [None])[0]
            runs = [dict(run) for run in reversed(self.fake.runs.values())]
            listed = [run for run in runs if state is None or run["state"] == state]
            self._json(
                200, {"count": len(listed), "next": None, "previous": None, "results": listed}
            )
        elif (match := _RUN.match(path)) and match.group(1) in self.fake.runs:
            self._json(200, self._run_advanced(self.fake.runs[match.group(1)]))
        elif (match := _RUN_INPUTS.match(path)) and match.group(1) in self.fake.runs:
            self._json(200, {"inputs": self._run_inputs(match.group(1))})
        elif (match := _RUN_OUTPUT.match(path)) and match.group(1) in self.fake.runs:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-npz")
            self.send_header("Content-Length", str(len(RUN_OUTPUT_NPZ)))
            self.end_headers()
            self.wfile.write(RUN_OUTPUT_NPZ)
        elif (match := _DEPLOYMENT.match(path)) and match.group(1) in self.fake.user_deployments:
            deployment = self.fake.user_deployments[match.group(1)]
            self._json(200, self._deployment_advanced(deployment))
        else:
            self._error(404, "not_found")

    def _user_post(self, path: str, raw: bytes) -> None:
        self.fake.user_paths.append(f"POST {path}")
        if path == "/api/runs":
            self._run_create(raw)
        elif path == "/api/conversion/init":
            self._job_create(raw)
        elif (match := _PROMOTE.match(path)) and match.group(1) in self.fake.jobs:
            self.fake.promotions.append(json.loads(raw or b"{}"))
            model = {**RUN_MODEL, "name": json.loads(raw or b"{}").get("name", "model")}
            self._json(201, {"model": model})
        elif path == "/api/deployments":
            self._deployment_create(json.loads(raw))
        else:
            self._error(404, "not_found")

    def _job_create(self, raw: bytes) -> None:
        fields, files = self._multipart(raw)
        job = {
            "job_id": str(uuid.uuid4()),
            "status": "completed",
            "stage": "nef",
            "progress": 100,
            "platform": fields.get("platform"),
            "model": (files.get("model") or [""])[0],
            "error": None,
        }
        self.fake.jobs[job["job_id"]] = job
        self._json(201, job)

    def _deployment_create(self, body: dict[str, Any]) -> None:
        if body.get("device_ids") != [RUN_DEVICE["id"]]:
            self._error(404, "device_not_found")
            return
        deployment = {
            "id": str(uuid.uuid4()),
            "state": "pending",
            "kind": "install",
            "model": {"id": body["model_id"], "name": RUN_MODEL["name"]},
            "device": {k: RUN_DEVICE[k] for k in ("id", "name", "chip")},
            "bytes_done": 0,
            "bytes_total": 1000,
            "error_code": "",
            "error_message": "",
            "failure": None,
        }
        self.fake.user_deployments[deployment["id"]] = deployment
        result = {"device_id": RUN_DEVICE["id"], "outcome": "created", "deployment": deployment}
        self._json(201, {"results": [result]})

    def _deployment_advanced(self, deployment: dict[str, Any]) -> dict[str, Any]:
        """Each read moves the deployment on: pending, downloading, then the script's end."""
        with self.fake.lock:
            if deployment["state"] == "pending":
                deployment.update(state="downloading", bytes_done=500)
            elif deployment["state"] == "downloading":
                script = self.fake.deployment_script
                deployment.update(
                    state=script.state,
                    bytes_done=1000 if script.state == "installed" else 500,
                    error_code=script.error_code,
                    error_message=script.error_message,
                    failure=script.failure,
                )
            return dict(deployment)

    def _multipart(self, raw: bytes) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The form's fields, and each file field's file names."""
        head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
        fields: dict[str, str] = {}
        files: dict[str, list[str]] = {}
        for part in BytesParser().parsebytes(head + raw).get_payload():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename() is not None:
                files.setdefault(name, []).append(part.get_filename())
            else:
                fields[name] = part.get_payload(decode=True).decode()
        return fields, files

    def _run_create(self, raw: bytes) -> None:
        fields, files = self._multipart(raw)
        inputs = files.get("inputs", [])
        run = {
            "id": str(uuid.uuid4()),
            "state": "pending",
            "model": {"id": RUN_MODEL["id"], "name": RUN_MODEL["name"]},
            "device": {k: RUN_DEVICE[k] for k in ("id", "name", "chip")},
            "options": {k: fields.get(k) for k in ("repeat", "channel_order", "scale")},
            "runtime": "",
            "inputs_count": len(inputs),
            "created_at": "2026-12-08T00:00:00Z",
            "inputs_done": 0,
            "inputs_bytes": len(raw),
            "latency": None,
            "agreement": None,
            "reference": {"state": "none", "error": ""},
            "error_code": "",
            "error_message": "",
        }
        self.fake.runs[run["id"]] = run
        self.fake.run_uploads[run["id"]] = {"fields": fields, "inputs": inputs}
        self._json(201, run)

    def _run_inputs(self, run_id: str) -> list[dict[str, Any]]:
        """Each input as deployments/api/run_serializers.py (RunInputOutputSerializer)
        gives it: done, failed (as the script says) or still pending."""
        run = self.fake.runs[run_id]
        failed = self.fake.run_script.failed_inputs
        entries = []
        for index, name in enumerate(self.fake.run_uploads[run_id]["inputs"]):
            state = "pending" if run["state"] != "completed" else "done"
            code, message = failed.get(index, ("", ""))
            if state == "done" and index in failed:
                state = "failed"
            done = state == "done"
            entries.append(
                {
                    "index": index,
                    "name": name,
                    "content_type": "image/png",
                    "size_bytes": 100,
                    "state": state,
                    "timings_ms": [3.0, 3.1] if done else None,
                    "agreement": None,
                    "error_code": code if state == "failed" else "",
                    "error_message": message if state == "failed" else "",
                    "output_url": f"/api/runs/{run_id}/inputs/{index}/output" if done else None,
                }
            )
        return entries

    def _run_advanced(self, run: dict[str, Any]) -> dict[str, Any]:
        """Each read moves the run on: pending, running, then the script's end."""
        with self.fake.lock:
            if run["state"] == "pending":
                run["state"] = "running"
            elif run["state"] == "running":
                script = self.fake.run_script
                completed = script.state == "completed"
                any_done = len(script.failed_inputs) < run["inputs_count"]
                run.update(
                    state=script.state,
                    runtime="demo, CPU",
                    inputs_done=run["inputs_count"] if completed else 0,
                    latency=script.latency if completed and any_done else None,
                    agreement=script.agreement if completed and any_done else None,
                    reference={
                        "state": "done" if script.agreement and any_done else "none",
                        "error": "",
                    },
                    error_code=script.error_code,
                    error_message=script.error_message,
                )
            return dict(run)
