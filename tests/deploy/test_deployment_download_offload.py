"""An agent's download of a deployment's file through nginx: the app decides the range
(and If-Range on the sha256 ETag), nginx sends the bytes, and every answer is the one
the app streams without nginx, header for header and byte for byte. A resume with
Range + If-Range works through nginx; the internal location answers nothing outside."""

from __future__ import annotations

import pytest
import requests

from deployments import services
from tests.deploy.test_models_download_offload import comparable
from tests.loopback import use_stack_storage
from tests.models_repo.conftest import nef_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture
def deployment(loopback_stack, settings, alice, alice_device, make_model):
    use_stack_storage(settings, loopback_stack)
    model = make_model(alice, "detector", chips=("KL720",), size=SIZE)
    return services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def ask(url: str, token: str, **headers: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "agent-download-01", **headers}
    return requests.get(url, headers=headers, timeout=60)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Range": "bytes=1000-"},
        {"Range": "bytes=1000-4999"},
        {"Range": "bytes=-2048"},
        {"Range": f"bytes={SIZE}-"},  # past the end: 416
        {"Range": "bytes=0-9,20-29"},  # several: the whole file
        {"Range": "bytes=abc"},  # malformed: the whole file
        {"Range": "BYTES=10-"},  # not ours to guess: the whole file
        {"Range": "bytes=2048-", "If-Range": "ETAG"},  # the sha256 ETag: the range
        {"Range": "bytes=2048-", "If-Range": '"not-this-file"'},  # another: everything
        {"Range": "bytes=2048-", "If-Range": "Tue, 01 Dec 2026 10:00:00 GMT"},  # a date: all
    ],
    ids=lambda headers: " ".join(f"{k}={v}" for k, v in headers.items()) or "whole",
)
def test_every_answer_through_nginx_is_the_streamed_one(
    loopback_stack,
    deployment,
    alice_device,
    headers,
):
    if headers.get("If-Range") == "ETAG":
        headers = {**headers, "If-Range": f'"{deployment.sha256}"'}
    path = f"/api/agent/deployments/{deployment.pk}/file"
    through_nginx = ask(loopback_stack.url(path), alice_device.token, **headers)
    streamed = ask(loopback_stack.direct_url(path), alice_device.token, **headers)
    assert through_nginx.status_code == streamed.status_code
    assert through_nginx.content == streamed.content
    assert comparable(through_nginx.headers) == comparable(streamed.headers)
    assert "X-Accel-Redirect" not in through_nginx.headers


def test_a_resume_through_nginx_sends_only_the_rest(loopback_stack, deployment, alice_device):
    url = loopback_stack.url(f"/api/agent/deployments/{deployment.pk}/file")
    whole = nef_bytes(SIZE, seed=1)
    cut = requests.get(
        url, headers={"Authorization": f"Bearer {alice_device.token}"}, stream=True, timeout=60
    )
    first_part = cut.raw.read(SIZE // 2)
    cut.close()  # the connection drops half way
    etag = cut.headers["ETag"]
    assert etag == f'"{deployment.sha256}"'
    rest = ask(url, alice_device.token, Range=f"bytes={len(first_part)}-", **{"If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes {len(first_part)}-{SIZE - 1}/{SIZE}"
    assert first_part + rest.content == whole


def test_another_devices_token_gets_nothing_and_the_location_is_internal(
    loopback_stack,
    deployment,
    alice,
    alice_device,
    issue_code,
    pair,
):
    other = pair(issue_code(alice).code, serial="ALICE-OTHER")
    path = f"/api/agent/deployments/{deployment.pk}/file"
    refused = ask(loopback_stack.url(path), other.token)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    inside = requests.get(
        loopback_stack.direct_url(path),
        headers={"Authorization": f"Bearer {alice_device.token}", "X-Visiona-Offload": "files"},
        timeout=60,
    )
    location = inside.headers["X-Accel-Redirect"]
    assert location.startswith("/_internal/files/whole/")
    outside = requests.get(loopback_stack.url(location), timeout=60)
    assert outside.status_code == 404
    assert outside.content != nef_bytes(SIZE, seed=1)
