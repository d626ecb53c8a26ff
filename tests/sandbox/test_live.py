"""The sandbox over real HTTP, as visionA talks to it: chunked uploads, concurrency."""

from __future__ import annotations

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from sandbox.http import ChunkedReader
from sandbox.management.commands.run_sandbox import sandbox_only

from .conftest import ALL_SCOPES, BOUNDARY, CLIENT_ID, CLIENT_SECRET, job_parts, multipart_body

pytestmark = pytest.mark.live


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server_url():
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(sandbox_only(get_wsgi_application()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_token(server_url) -> str:
    response = requests.post(
        f"{server_url}/sandbox/mc/oauth/token",
        data={"grant_type": "client_credentials", "scope": ALL_SCOPES},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def in_pieces(data: bytes, size: int = 7000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def post_job(server_url: str, token: str, body) -> requests.Response:
    return requests.post(
        f"{server_url}/sandbox/converter/api/v1/jobs",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
        timeout=30,
    )


def test_it_takes_a_chunked_upload(server_url, live_token):
    model = bytes(range(256)) * 4000  # 1 MB, several 1 MiB reads and many chunks
    body = multipart_body(job_parts(model=model))
    response = post_job(server_url, live_token, in_pieces(body))  # no Content-Length
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    seen = requests.get(f"{server_url}/sandbox/converter/_inspect/jobs/{job_id}", timeout=10)
    model_part = seen.json()["received"]["parts"][4]
    assert model_part["sha256"] == hashlib.sha256(model).hexdigest()


def test_a_refused_chunked_upload_still_gets_its_answer(server_url, live_token, settings):
    settings.SANDBOX_MAX_MODEL_BYTES = 1000
    body = multipart_body(job_parts(model=b"x" * 300_000))
    response = post_job(server_url, live_token, in_pieces(body))
    assert response.status_code == 413


def test_only_one_of_two_simultaneous_uploads_wins(server_url, live_token, settings):
    settings.SANDBOX_STAGE_SECONDS = 60
    body = multipart_body(job_parts(user_id="alice"))
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post_job(server_url, live_token, body), range(4)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]


def test_it_serves_nothing_but_the_sandbox(server_url):
    assert requests.get(f"{server_url}/healthz", timeout=10).status_code == 404


def test_the_chunked_reader_decodes_chunks_and_trailers():
    raw = io.BytesIO(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT")
    reader = ChunkedReader(raw.read, raw.readline)
    assert reader.read(3) == b"hel"
    assert reader.read() == b"lo world"
    assert reader.read(10) == b""
    assert raw.read() == b"NEXT"  # the next request on the connection is untouched


def test_the_chunked_reader_refuses_a_truncated_body():
    raw = io.BytesIO(b"10\r\nshort")
    with pytest.raises(ValueError):
        ChunkedReader(raw.read, raw.readline).read()
