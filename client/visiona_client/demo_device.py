"""A stand-in of the local device API, for trying visionA without a Kneron chip.

It serves on the loopback interface only, and every answer says it is a demo:
``"demo": true`` in the JSON and an ``X-Visiona-Demo: 1`` header. Its versions
and its dongle are made up. ``GET /api/models`` lists the models the agent
installed in its models folder (from its ``manifest.json``), as a real local
device API does, and it runs them by the inference contract
(``visiona_client.inference_contract``): really, with onnxruntime on the CPU, the
model a sandbox stand-in NEF carries (``visiona_client.demo_inference``).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import platform
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from visiona_client import __version__
from visiona_client.demo_inference import DemoRuntime
from visiona_client.inference_contract import (
    INFER_SUFFIX,
    INPUT_TOO_LARGE,
    MAX_INPUT_BYTES,
    MODEL_SHA256_HEADER,
    NPZ_TYPE,
    RUNTIME_HEADER,
    TIMINGS_HEADER,
    ContractError,
    InferOptions,
    format_timings,
    input_type,
)
from visiona_client.models_folder import ModelsFolder

logger = logging.getLogger(__name__)

DEMO_HOST = "127.0.0.1"
DEMO_CHIP = "KL720"


def demo_serial() -> str:
    """Stable for one user on one machine, different across machines.

    Serial numbers are unique among a server's live devices, so two people trying
    the demo against the same visionA must not both claim ``DEMO-0001``.
    """
    seed = f"{uuid.getnode()}:{getpass.getuser()}".encode()
    return f"DEMO-{DEMO_CHIP}-{hashlib.sha256(seed).hexdigest()[:8].upper()}"


def system_deps() -> dict[str, Any]:
    serial = demo_serial()
    return {
        "demo": True,
        "driver": {"name": "Kneron USB driver (demo)", "version": "1.3.0"},
        "firmware": {"version": "2.2.0", "chip": DEMO_CHIP},
        "toolchain": {"kneron_plus": "3.1.2", "kneron_toolchain": "0.27.0"},
        "dongles": [
            {
                "chip": DEMO_CHIP,
                "serial": serial,
                "firmware_version": "2.2.0",
                "usb_port": "demo-1",
                "status": "ready",
            }
        ],
    }


def device_info() -> dict[str, Any]:
    return {
        "demo": True,
        "name": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}".strip(),
        "python": platform.python_version(),
        "agent_version": __version__,
        "chip": DEMO_CHIP,
        "serial": demo_serial(),
    }


ROUTES = {"/api/system/deps": system_deps, "/api/device/info": device_info}
MODELS_PATH = "/api/models"
# GET /api/demo/blob?bytes=N[&delay=S]: N zero bytes, streamed, after S seconds
# (for trying large and slow answers).
BLOB_PATH = "/api/demo/blob"
BLOB_MAX_BYTES = 1024**3
BLOB_MAX_DELAY_SECONDS = 60
# POST /api/demo/echo: the size and SHA-256 of the body it was sent (for request bodies).
ECHO_PATH = "/api/demo/echo"
_CHUNK = 64 * 1024


class DemoHandler(BaseHTTPRequestHandler):
    _body_done = False
    server_version = f"visiona-agent-demo/{__version__}"
    # Keep-alive, as a real local API does: the agent keeps its connections to it
    # (requests' pool), so a relayed request costs neither side a new connection.
    # Every answer states its length; one whose request body was not read whole
    # closes the connection (that body must not be taken for the next request).
    protocol_version = "HTTP/1.1"
    # The head and the body leave in two writes: with Nagle's algorithm on a kept
    # connection, the body would wait for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def parse_request(self) -> bool:
        self._body_done = False  # one handler serves each request of its connection
        return super().parse_request()

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        if not self._body_read():
            self.send_header("Connection", "close")

    def _body_read(self) -> bool:
        if self._body_done or getattr(self, "headers", None) is None:
            return True  # no headers: a request refused unread, closed by send_error
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        return not chunked and int(self.headers.get("Content-Length") or 0) == 0

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Visiona-Demo", "1")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._answer(status, {"demo": True, "error": {"code": code, "message": message}})

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == BLOB_PATH:
            self._blob()
            return
        if self.path.split("?", 1)[0] == MODELS_PATH:
            folder = self.server.models  # type: ignore[attr-defined]
            self._answer(200, {"demo": True, "models": folder.entries() if folder else []})
            return
        stem = _model_stem(self.path)
        if stem is not None:
            try:
                self._answer(200, {"demo": True, **self.server.runtime.describe(stem)})  # type: ignore[attr-defined]
            except ContractError as exc:
                self._error(exc.status, exc.code, exc.message)
            return
        route = ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self._error(404, "not_found", f"The demo device has no {self.path.split('?', 1)[0]}")
            return
        self._answer(200, route())

    do_HEAD = do_GET

    def _blob(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            size = int(query.get("bytes", ["0"])[0])
        except ValueError:
            size = -1
        try:
            delay = float(query.get("delay", ["0"])[0])
        except ValueError:
            delay = -1.0
        if not 0 <= size <= BLOB_MAX_BYTES or not 0 <= delay <= BLOB_MAX_DELAY_SECONDS:
            self._error(
                400,
                "bad_request",
                f"bytes must be 0 to {BLOB_MAX_BYTES}, delay 0 to {BLOB_MAX_DELAY_SECONDS} s",
            )
            return
        time.sleep(delay)  # a slow device, for trying timeouts
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("X-Visiona-Demo", "1")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command == "HEAD":
            return
        zeros = bytes(_CHUNK)
        while size > 0:
            self.wfile.write(zeros[: min(size, _CHUNK)])
            size -= _CHUNK

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith(MODELS_PATH + "/") and path.endswith(INFER_SUFFIX):
            self._infer(path[len(MODELS_PATH) + 1 : -len(INFER_SUFFIX)])
            return
        if path != ECHO_PATH:
            self._not_allowed()
            return
        digest, total = hashlib.sha256(), 0
        for chunk in self._body_chunks():
            digest.update(chunk)
            total += len(chunk)
        self._answer(200, {"demo": True, "bytes": total, "sha256": digest.hexdigest()})

    def _infer(self, stem: str) -> None:
        try:
            query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            options = InferOptions.from_query(query)
            media_type = input_type(self.headers.get("Content-Type", ""))
            body = self._bounded_body()
            result = self.server.runtime.infer(stem, body, media_type, options)  # type: ignore[attr-defined]
        except ContractError as exc:
            self._error(exc.status, exc.code, exc.message)
            return
        self.send_response(200)
        self.send_header("Content-Type", NPZ_TYPE)
        self.send_header("Content-Length", str(len(result.npz)))
        self.send_header(TIMINGS_HEADER, format_timings(result.timings_ms))
        self.send_header(RUNTIME_HEADER, result.runtime)
        self.send_header(MODEL_SHA256_HEADER, result.model_sha256)
        self.send_header("X-Visiona-Demo", "1")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(result.npz)

    def _bounded_body(self) -> bytes:
        """The request body, refused past MAX_INPUT_BYTES (declared or counted)."""
        declared = self.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_INPUT_BYTES:
            raise ContractError(
                413, INPUT_TOO_LARGE, f"an input is at most {MAX_INPUT_BYTES} bytes"
            )
        body = bytearray()
        for chunk in self._body_chunks():
            body += chunk
            if len(body) > MAX_INPUT_BYTES:
                raise ContractError(
                    413, INPUT_TOO_LARGE, f"an input is at most {MAX_INPUT_BYTES} bytes"
                )
        return bytes(body)

    def _body_chunks(self) -> Iterator[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    self._body_done = True
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, _CHUNK))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
        self._body_done = True

    def _not_allowed(self) -> None:
        self._error(
            405, "method_not_allowed", "The demo device answers GET (and its infer and echo POSTs)."
        )

    do_PUT = do_PATCH = do_DELETE = _not_allowed

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("demo device: " + format, *args)


class _DemoServer(ThreadingHTTPServer):
    # Many requests at once come through one tunnel: the default backlog (5) refuses them.
    request_queue_size = 128
    daemon_threads = True
    models: ModelsFolder | None = None
    runtime: DemoRuntime


def _model_stem(path: str) -> str | None:
    """``/api/models/<stem>`` -> stem (percent-decoded), else None."""
    bare = unquote(path.split("?", 1)[0])
    prefix = MODELS_PATH + "/"
    if not bare.startswith(prefix) or "/" in bare[len(prefix) :]:
        return None
    return bare[len(prefix) :]


class DemoDevice:
    """The demo local API in a thread: ``with DemoDevice(port) as demo: demo.url``."""

    def __init__(self, port: int = 0, *, models_dir: Path | None = None) -> None:
        self.httpd = _DemoServer((DEMO_HOST, port), DemoHandler)
        self.httpd.models = ModelsFolder(models_dir) if models_dir else None
        self.httpd.runtime = DemoRuntime(self.httpd.models)
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="demo-device", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DemoDevice:
        self._thread.start()
        logger.info("demo device API (a stand-in, not a real device) at %s", self.url)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> DemoDevice:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
