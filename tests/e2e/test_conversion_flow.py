"""End to end over real HTTP: visionA's API, its upstream clients and the sandbox."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache

from conversion import upload_lease
from conversion.models import ConversionJob
from models_repo.models import NefModel
from sandbox import clock, nef
from tests import onnx_models
from tests.e2e.conftest import file, standard_form, text
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024


def inspect(http, job_id: str) -> dict:
    response = requests.get(http.url(f"/sandbox/converter/_inspect/jobs/{job_id}"), timeout=10)
    assert response.status_code == 200
    return response.json()


def wait_until_finished(http, job_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/api/conversion/{job_id}").json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_the_proxy_streams_every_byte_and_only_the_session_users_id(alice_http, alice):
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)  # 1 MiB, not all one byte
    # A real ONNX model (the pre-flight reads it on the way) whose weights are 12 blocks.
    pieces = list(onnx_models.large_model_stream(12 * MIB, payload=[block] * 12))
    model_size = sum(len(piece) for piece in pieces)
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    model_sha = digest.hexdigest()
    images = [b"\x89PNG\r\n\x1a\n" + bytes([i]) * (300_000 + i) for i in range(3)]
    parts = [
        text("user_id", "victim"),
        text("platform", "720"),
        text("model_id", "32769"),
        text("version", "00a1"),
        ("model", "big.onnx", iter(pieces), model_size),
        *[file("ref_images", f"img{i}.png", image) for i, image in enumerate(images)],
        file("user_id", "forged.txt", b"victim"),
    ]
    response = alice_http.upload(parts)
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]

    seen = inspect(alice_http, job_id)
    assert seen["user_id"] == alice.upstream_id
    received = seen["received"]["parts"]
    assert received[0] == {"name": "user_id", "value": alice.upstream_id}
    assert [p for p in received if p["name"] == "user_id"] == [received[0]]
    files = [(p["name"], p["filename"], p["sha256"]) for p in received if "sha256" in p]
    assert files == [("model", "big.onnx", model_sha)] + [
        ("ref_images", f"img{i}.png", hashlib.sha256(image).hexdigest())
        for i, image in enumerate(images)
    ]
    assert ConversionJob.objects.get(job_id=job_id).owner == alice


def test_a_lost_ownership_record_is_rebuilt_from_the_converter(alice_http, alice, sandbox):
    sandbox.SANDBOX_STAGE_SECONDS = 60
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    ConversionJob.objects.all().delete()  # visionA "restarted" without its rows

    body = alice_http.get("/api/conversion/active").json()
    assert body["job"]["job_id"] == job_id
    assert ConversionJob.objects.get(job_id=job_id).owner == alice


def test_a_second_upload_meets_the_active_job(alice_http, sandbox):
    sandbox.SANDBOX_STAGE_SECONDS = 60
    first = alice_http.upload(standard_form()).json()
    second = alice_http.upload(standard_form())
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "active_job_exists"
    assert error["details"]["active_job"]["job_id"] == first["job_id"]


def test_another_user_cannot_see_or_use_the_job(alice_http, bob_http):
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    for response in (
        bob_http.get(f"/api/conversion/{job_id}"),
        bob_http.get(f"/api/conversion/{job_id}/download", allow_redirects=False),
        bob_http.post(f"/api/conversion/{job_id}/promote-to-models"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "job_not_found"


def test_download_is_a_short_lived_link_to_the_nef(alice_http, monkeypatch):
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    assert wait_until_finished(alice_http, job_id)["status"] == "completed"

    response = alice_http.get(f"/api/conversion/{job_id}/download", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    token = parse_qs(urlsplit(location).query)["access_token"][0]
    assert token not in response.text

    plain = requests.get(location, timeout=10)  # no cookies: the token alone
    assert plain.status_code == 200
    header = nef.parse(plain.content)
    assert header["job_id"] == job_id
    assert header["platform"] == "720"

    # The browser saves it under the uploaded model's name, not model.nef.
    assert plain.headers["Content-Disposition"] == 'attachment; filename="yolo.nef"'
    other_key = location.replace("/yolo.nef?", "/other.nef?")
    assert requests.get(other_key, timeout=10).status_code == 403

    later = clock.now() + 3600
    monkeypatch.setattr(clock, "now", lambda: later)
    assert requests.get(location, timeout=10).status_code == 401


def test_the_whole_journey_ends_in_my_models(alice_http, alice):
    response = alice_http.upload(standard_form(filename="resnet.onnx"))
    assert response.status_code == 201
    job_id = response.json()["job_id"]
    job = wait_until_finished(alice_http, job_id)
    assert (job["status"], job["stage"], job["progress"]) == ("completed", None, 100)

    saved = alice_http.post(f"/api/conversion/{job_id}/promote-to-models", json={"name": "ResNet"})
    assert saved.status_code == 200, saved.text
    model = saved.json()["model"]
    record = NefModel.objects.get(pk=model["id"])
    assert (record.owner, record.name, record.source_reference) == (alice, "ResNet", job_id)
    assert (model["source_reference"], model["source_label"]) == (job_id, "resnet.onnx")
    assert ConversionJob.objects.get(job_id=job_id).saved_model == record
    with record.file.open("rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == record.sha256 == model["sha256"]
    assert len(data) == record.size_bytes
    assert nef.parse(data)["job_id"] == job_id

    again = alice_http.post(f"/api/conversion/{job_id}/promote-to-models")
    assert again.json()["model"]["id"] == model["id"]
    assert NefModel.objects.filter(owner=alice).count() == 1
    assert alice_http.get(f"/api/conversion/{job_id}").json()["saved_model"]["id"] == model["id"]


def test_a_failing_stage_reaches_the_user_with_the_converters_error(alice_http):
    job_id = alice_http.upload(standard_form(filename="net-fail-bie.onnx")).json()["job_id"]
    job = wait_until_finished(alice_http, job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "quantization_failed"
    assert job["error"]["stage"] == "bie"
    refused = alice_http.post(f"/api/conversion/{job_id}/promote-to-models")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "job_not_completed"


def test_a_client_that_disconnects_mid_upload_leaves_no_job(alice_http, live_server):
    """The browser goes away after 1 MiB of a 6 MiB form: the converter must not
    receive a truncated form as complete, and visionA records nothing."""
    import socket
    from urllib.parse import urlsplit

    from sandbox import store
    from tests.e2e.conftest import Form

    form = Form(standard_form(model=b"m" * (6 * MIB)))
    body = b"".join(form)
    url = urlsplit(live_server.url)
    cookies = "; ".join(f"{c.name}={c.value}" for c in alice_http.http.cookies)
    head = (
        "POST /api/conversion/init HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        f"Content-Type: multipart/form-data; boundary=e2eBoundary7MA4YWxkTrZu0gW\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-CSRFToken: {alice_http.csrf}\r\n"
        f"Cookie: {cookies}\r\n\r\n"
    ).encode()
    lease = upload_lease._key(alice_http.user)
    with socket.create_connection((url.hostname, url.port)) as raw:
        raw.sendall(head + body[:MIB])
        # The proxy holds the upload's lease: it is streaming to the converter.
        wait_for(
            lambda: cache.get(lease) is not None,
            timeout=60,
            interval=0.05,
            what="the upload to start",
        )
    # The proxy noticed the cut and let go (its finally ran), then nothing was recorded.
    wait_for(
        lambda: cache.get(lease) is None,
        timeout=60,
        interval=0.05,
        what="the proxy to end the upload",
    )
    assert list(store.all_jobs()) == []
    assert ConversionJob.objects.count() == 0
    # And the user can upload again at once: nothing half-made blocks them.
    assert alice_http.upload(standard_form()).status_code == 201
