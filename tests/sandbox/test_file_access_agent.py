"""The sandbox File Access Agent: service and delegated reads, uploads."""

from __future__ import annotations

import hashlib

import pytest

from sandbox import store

from .conftest import FAA, MC, bearer

KEY = "tenants/t1/users/u1/models/job-1/yolo.nef"
CONTENT = b"nef-bytes" * 1000


@pytest.fixture
def stored():
    return store.put_object(KEY, [CONTENT[:5000], CONTENT[5000:]])


def delegated_token(client, token: str, key: str = KEY, **fields) -> str:
    body = {"tenant_id": "t1", "user_id": "u1", "object_key": key, **fields}
    response = client.post(
        f"{MC}/file-access/download-tokens", body, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


def test_a_service_streams_an_object(client, get_token, stored):
    response = client.get(f"{FAA}/files/{KEY}", **bearer(get_token("files:download.read")))
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == CONTENT
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["ETag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert 'filename="yolo.nef"' in response["Content-Disposition"]


def test_reading_needs_the_read_scope(client, get_token, stored):
    response = client.get(f"{FAA}/files/{KEY}", **bearer(get_token("files:upload.write")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_reading_needs_a_token(client, stored):
    response = client.get(f"{FAA}/files/{KEY}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_browser_downloads_with_a_delegated_token(client, token, stored):
    access_token = delegated_token(client, token)
    response = client.get(f"{FAA}/files/{KEY}", {"access_token": access_token})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT


def test_a_delegated_token_opens_only_its_own_object(client, token, stored):
    store.put_object("tenants/t1/users/u2/models/other.nef", [b"secret"])
    access_token = delegated_token(client, token)
    response = client.get(
        f"{FAA}/files/tenants/t1/users/u2/models/other.nef", {"access_token": access_token}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "access_denied"


def test_a_delegated_token_only_reads(client, token, stored):
    access_token = delegated_token(client, token)
    response = client.put(
        f"{FAA}/files/{KEY}?access_token={access_token}",
        b"overwritten",
        content_type="application/octet-stream",
    )
    assert response.status_code == 403
    assert store.get_object(KEY).size_bytes == len(CONTENT)


def test_a_delegated_token_expires(fake_clock, client, token, stored):
    access_token = delegated_token(client, token, expires_in_seconds=60)
    fake_clock.advance(61)
    response = client.get(f"{FAA}/files/{KEY}", {"access_token": access_token})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_service_token_is_no_delegated_token(client, token, stored):
    response = client.get(f"{FAA}/files/{KEY}", {"access_token": token})
    assert response.status_code == 401


def test_a_missing_object_is_404(client, token):
    response = client.get(f"{FAA}/files/{KEY}", **bearer(token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "object_not_found"


def test_a_service_uploads_and_replaces_an_object(client, get_token):
    auth = bearer(get_token("files:upload.write files:download.read"))
    created = client.put(
        f"{FAA}/files/{KEY}", b"v1", content_type="application/octet-stream", **auth
    )
    assert created.status_code == 201
    assert created.json()["size_bytes"] == 2
    replaced = client.put(f"{FAA}/files/{KEY}", CONTENT, content_type="x/y", **auth)
    assert replaced.status_code == 200
    assert replaced["ETag"] == replaced.json()["etag"] != created.json()["etag"]
    assert b"".join(client.get(f"{FAA}/files/{KEY}", **auth).streaming_content) == CONTENT


def test_uploading_needs_the_upload_scope(client, get_token):
    auth = bearer(get_token("files:download.read"))
    response = client.put(f"{FAA}/files/{KEY}", b"v1", content_type="x/y", **auth)
    assert response.status_code == 403
    assert store.get_object(KEY) is None


def test_it_refuses_a_key_that_climbs_out(client, token):
    response = client.put(f"{FAA}/files/a/../b", b"v1", content_type="x/y", **bearer(token))
    assert response.status_code == 422
    assert store.get_object("a/../b") is None
