"""The S3 stand-in: moto's S3 served over real HTTP in a process of its own.

django-storages and boto3 talk to it as to MinIO or AWS (signed requests, multipart
uploads, ranged reads), so the S3 path of the models storage runs for real. Used by
the storage tests and, in place of the MinIO service, by the compose-stack test.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import requests

from deploy.processes import free_port

ACCESS_KEY = "stand-in-access-key"
SECRET_KEY = "stand-in-secret-key"
REGION = "us-east-1"


class S3StandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._answers():
            assert time.monotonic() < deadline, "the S3 stand-in did not answer within 60 s"
            time.sleep(0.1)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"the S3 stand-in exited: {self.log.read()}")
        try:
            requests.get(self.endpoint_url, timeout=2)
        except requests.ConnectionError:
            return False
        return True

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listed.get("Contents", [])]

    def storage_options(self, bucket: str) -> dict:
        """The models storage's OPTIONS, as visiona/settings/web.py builds them."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "location": "models",
            "default_acl": None,
            "max_memory_size": 2_621_440,
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def use_bucket_for_models(settings, stand_in: S3StandIn, *, endpoint_url: str = "") -> str:
    """Point the models storage at a new bucket of the stand-in (as MODELS_STORAGE_S3_*
    would): its name. ``endpoint_url``: reach it through that address instead."""
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    stand_in.create_bucket(bucket)
    point_models_at(settings, stand_in, bucket, endpoint_url=endpoint_url)
    return bucket


def point_models_at(settings, stand_in: S3StandIn, bucket: str, *, endpoint_url: str = "") -> None:
    options = stand_in.storage_options(bucket)
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }


class BucketProxy:
    """A small HTTP proxy in front of the stand-in, for what moto does not tell: each
    GET and HEAD it passes is kept (``requests``: method, path, headers), and ``cut_at``
    drops the connection once that many bytes of one answer's body were sent (once)."""

    def __init__(self, stand_in: S3StandIn) -> None:
        self.upstream_port = stand_in.port
        self.requests: list[dict] = []
        self.cut_at: int | None = None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.httpd.daemon_threads = True
        self.httpd.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> BucketProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        proxy: BucketProxy = self.server.proxy  # type: ignore[attr-defined]
        headers = dict(self.headers.items())
        proxy.requests.append({"method": self.command, "path": self.path, "headers": headers})
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
        try:
            # The Host the client signed stays as it was (SigV4 signs it).
            upstream.request(self.command, self.path, headers=headers)
            answer = upstream.getresponse()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "server", "date"):
                    self.send_header(name, value)
            self.end_headers()
            sent = 0
            while chunk := answer.read(64 * 1024):
                if proxy.cut_at is not None and sent + len(chunk) >= proxy.cut_at:
                    self.wfile.write(chunk[: proxy.cut_at - sent])
                    proxy.cut_at = None
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)  # fewer bytes than the Content-Length
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
        finally:
            upstream.close()


@pytest.fixture(scope="session")
def s3_stand_in():
    stand_in = S3StandIn()
    yield stand_in
    stand_in.stop()
