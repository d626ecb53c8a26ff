"""FAA client: object naming, download URLs, streamed reads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from responses import matchers

from conversion.clients import errors, faa
from tests.conversion.upstreams import FAA

KEY = "tenants/t 1/users/u/models/j/model.nef"
URL = f"{FAA}/files/tenants/t%201/users/u/models/j/model.nef"


def test_the_key_names_tenant_user_and_job():
    assert faa.object_key_for_job(tenant_id="t", user_id="u", job_id="j") == (
        "tenants/t/users/u/models/j/model.nef"
    )


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("yolo.onnx", "yolo.nef"),
        ("My Net (v2).onnx", "My_Net_v2.nef"),
        ("C:\\models\\edge-det.v3.onnx", "edge-det.v3.nef"),
        # ASCII only, what every object store's keys take: other scripts fall away.
        ("偵測器.onnx", "model.nef"),
        ("偵測器-v2.onnx", "v2.nef"),
        ("../..onnx", "model.nef"),
        ('"/?.onnx', "model.nef"),
        ("", "model.nef"),
        ("x" * 300 + ".onnx", "x" * 100 + ".nef"),
    ],
)
def test_the_nef_is_named_after_the_uploaded_file(filename, name):
    """A browser saves the NEF under the key's last segment: the model's own name, tame."""
    key = faa.object_key_for_job(tenant_id="t", user_id="u", job_id="j", filename=filename)
    assert key == f"tenants/t/users/u/models/j/{name}"


def test_the_kept_source_stays_model_onnx():
    key = faa.object_key_for_job(
        tenant_id="t", user_id="u", job_id="j", source="onnx", filename="yolo.onnx"
    )
    assert key == "tenants/t/users/u/models/j/model.onnx"


def test_file_url_escapes_each_segment_and_carries_the_token(upstream_settings):
    url = faa.file_url(KEY, access_token="a&b")
    parts = urlsplit(url)
    assert parts.path == "/files/tenants/t%201/users/u/models/j/model.nef"
    assert parse_qs(parts.query) == {"access_token": ["a&b"]}


def test_open_file_streams_with_a_service_token(upstream):
    upstream.get(
        URL,
        body=b"x" * 3000,
        match=[matchers.header_matcher({"Authorization": "Bearer svc-token"})],
    )
    with faa.open_file(KEY) as download:
        data = b"".join(download.iter_chunks(1024))
    assert data == b"x" * 3000


def test_open_file_retries_before_the_first_byte(upstream):
    upstream.get(URL, status=503)
    upstream.get(URL, body=requests.ConnectionError())
    upstream.get(URL, body=b"ok")
    with faa.open_file(KEY) as download:
        assert b"".join(download.iter_chunks(10)) == b"ok"


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, errors.SourceNotAvailable), (403, errors.FaaUnavailable), (500, errors.FaaUnavailable)],
)
def test_open_file_failures(upstream, status, error):
    upstream.get(URL, status=status)
    with pytest.raises(error), faa.open_file(KEY):
        pass


def test_a_refused_token_is_replaced_once(upstream):
    upstream.get(URL, status=401)
    upstream.get(URL, body=b"after-rotation")
    with faa.open_file(KEY) as download:
        assert b"".join(download.iter_chunks(64)) == b"after-rotation"
    fetches = [c for c in upstream.calls if c.request.url.endswith("/oauth/token")]
    assert len(fetches) == 2
