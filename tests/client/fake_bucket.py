"""A bucket's side of a presigned download, for the agent's redirect rules.

A real HTTP server (``http.server`` on a free loopback port): ``GET /<key>?<anything>``
answers the object's bytes with one ``Range: bytes=N-`` (206), as S3 does, and ignores
``If-Range``. It keeps each request's headers. Knobs: ``answers`` (statuses to give
first, each with S3's XML error; 3xx with a Location), ``cut_at`` (drop the connection
once that many bytes of the object were sent, once).
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_RANGE = re.compile(r"^bytes=(\d+)-$")


class FakeBucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.requests: list[dict[str, str]] = []
        self.answers: list[int] = []
        self.cut_at: int | None = None
        self.served = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.bucket = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, key: str, *, host: str = "127.0.0.1") -> str:
        port = self.httpd.server_address[1]
        return f"http://{host}:{port}/{key}?X-Amz-Signature=stand-in"

    def __enter__(self) -> FakeBucket:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        bucket: FakeBucket = self.server.bucket  # type: ignore[attr-defined]
        bucket.requests.append(dict(self.headers.items()))
        if bucket.answers:
            self._error(bucket.answers.pop(0))
            return
        data = bucket.objects.get(urlsplit(self.path).path.lstrip("/"))
        if data is None:
            self._error(404)
            return
        start, status = 0, 200
        match = _RANGE.match(self.headers.get("Range", ""))
        if match:
            start, status = int(match.group(1)), 206
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        stop = len(data)
        if bucket.cut_at is not None and start < bucket.cut_at:
            stop, bucket.cut_at = bucket.cut_at, None
        self.wfile.write(data[start:stop])
        bucket.served += stop - start
        if stop < len(data):
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)  # cut: fewer bytes than promised

    def _error(self, status: int) -> None:
        body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        if status == 404:
            body = b"<Error><Code>NoSuchKey</Code></Error>"
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
