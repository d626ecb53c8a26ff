"""The S3 stand-in: moto's S3 served over real HTTP in a process of its own.

django-storages and boto3 talk to it as to MinIO or AWS (signed requests, multipart
uploads, ranged reads), so the S3 path of the models storage runs for real. Used by
the storage tests and, in place of the MinIO service, by the compose-stack test.
moto does not check a presigned URL's signature: a ``BucketProxy`` in front with
``verify_signatures`` does, as a real bucket would (``presigned_signature_holds``).
"""

from __future__ import annotations

import hmac
import http.client
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests
from botocore.auth import HmacV1QueryAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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
            "signature_version": "s3v4",
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


# The models storage's backend when MODELS_STORAGE_S3_BUCKET is set (visiona/settings/web.py).
MODELS_S3_BACKEND = "visiona.s3_storage.PublicEndpointS3Storage"


def use_bucket_for_models(settings, stand_in: S3StandIn, **addresses: str) -> str:
    """Point the models storage at a new bucket of the stand-in (as MODELS_STORAGE_S3_*
    would): its name. ``addresses`` as ``point_models_at``'s."""
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    stand_in.create_bucket(bucket)
    point_models_at(settings, stand_in, bucket, **addresses)
    return bucket


def point_models_at(
    settings,
    stand_in: S3StandIn,
    bucket: str,
    *,
    endpoint_url: str = "",
    public_endpoint_url: str = "",
) -> None:
    """``endpoint_url``: the app reaches the stand-in through that address instead;
    ``public_endpoint_url``: presigned URLs name that one
    (MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL)."""
    options = stand_in.storage_options(bucket)
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if public_endpoint_url:
        options["public_endpoint_url"] = public_endpoint_url
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {"BACKEND": MODELS_S3_BACKEND, "OPTIONS": options},
    }


def presigned_signature_holds(method: str, host: str, target: str) -> bool:
    """Whether ``target`` (path and query), asked of ``host`` with ``method``, carries a
    presigned signature of the stand-in's keys that holds and has not expired: what S3
    or MinIO check. SigV4 signs the host the URL was made for; SigV2 only the path."""
    pairs = parse_qsl(urlsplit(target).query, keep_blank_values=True)
    given = dict(pairs)
    try:
        if given.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256":
            checked = _sigv4(method, host, target, pairs)
        elif {"AWSAccessKeyId", "Signature", "Expires"} <= given.keys():
            checked = _sigv2(method, target, given)
        else:
            return False
    except (KeyError, ValueError):  # a parameter missing or malformed
        return False
    if checked is None:
        return False
    expected, expires_at = checked
    signature = given.get("X-Amz-Signature") or given.get("Signature", "")
    return datetime.now(UTC) <= expires_at and hmac.compare_digest(signature, expected)


def _sigv4(method: str, host: str, target: str, pairs: list[tuple[str, str]]):
    given = dict(pairs)
    access_key, date, region, service, _ = given["X-Amz-Credential"].split("/")
    stamp = given["X-Amz-Date"]
    if access_key != ACCESS_KEY or date != stamp[:8] or given.get("X-Amz-SignedHeaders") != "host":
        return None
    signer = S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), service, region)
    request = AWSRequest(
        method=method,
        url=f"http://{host}{urlsplit(target).path}",
        params=[(key, value) for key, value in pairs if key != "X-Amz-Signature"],
        headers={"host": host},
    )
    request.context["timestamp"] = stamp
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return expected, signed_at + timedelta(seconds=int(given["X-Amz-Expires"]))


def _sigv2(method: str, target: str, given: dict[str, str]):
    if given["AWSAccessKeyId"] != ACCESS_KEY:
        return None
    signer = HmacV1QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY))
    resource = signer.canonical_resource(urlsplit(target))
    expected = signer.sign_string(f"{method}\n\n\n{given['Expires']}\n{resource}")
    return expected, datetime.fromtimestamp(int(given["Expires"]), UTC)


class BucketProxy:
    """A small HTTP proxy in front of the stand-in, for what moto does not tell: each
    request it gets is kept (``requests``: method, path, headers; it passes GET and
    HEAD), and ``cut_at`` drops the connection once that many bytes of one answer's body
    were sent (once). With ``verify_signatures`` it passes only presigned URLs whose
    signature holds for the Host they were asked of, and answers 403 otherwise."""

    def __init__(self, stand_in: S3StandIn, *, verify_signatures: bool = False) -> None:
        self.upstream_port = stand_in.port
        self.verify_signatures = verify_signatures
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

    def _kept(self) -> tuple[BucketProxy, dict[str, str]]:
        proxy: BucketProxy = self.server.proxy  # type: ignore[attr-defined]
        headers = dict(self.headers.items())
        proxy.requests.append({"method": self.command, "path": self.path, "headers": headers})
        return proxy, headers

    def _refuse(self, status: int, code: str) -> None:
        body = f"<Error><Code>{code}</Code></Error>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self) -> None:
        # Kept, so a test sees that nothing but a presigned download came this way.
        self._kept()
        self.close_connection = True
        self._refuse(501, "NotImplemented")

    do_POST = do_DELETE = do_PUT

    def do_GET(self) -> None:
        proxy, headers = self._kept()
        if proxy.verify_signatures and not presigned_signature_holds(
            self.command, self.headers.get("Host", ""), self.path
        ):
            self._refuse(403, "SignatureDoesNotMatch")
            return
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
