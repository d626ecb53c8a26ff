"""Streamed uploads through nginx: a trickle is cut with the envelope and leaves nothing
behind; past the per-process cap the answer is 503 with Retry-After at once; a client
that hangs up frees its slot."""

from __future__ import annotations

import select
import time

import pytest
import requests

from conversion.models import ConversionJob
from models_repo.models import NefModel
from tests.deploy.slow_clients import RawRequest, bearer, model_form
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def files_under(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def trickle_until_answered(request: RawRequest, *, piece: bytes, every: float, limit: float):
    """Send ``piece`` every ``every`` seconds (the trickle itself) until an answer comes."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        readable, _, _ = select.select([request.sock], [], [], every)
        if readable or not request.send(piece):
            return request.answer()
    raise AssertionError("no answer to the trickling upload")


def test_a_trickling_model_upload_is_cut_and_leaves_nothing(loopback_stack, alice):
    head, rest, content_type = model_form(200_000)
    # The session's stack is shared: other tests' models and temporary files may be there
    # (or come and go). This upload's file would be under its owner's own folder
    # (models_repo/storage.py: <owner id>/<uuid>/<name>), and Django's temporary file for
    # it a new name in the stack's TMPDIR.
    owner_folder = loopback_stack.data_dir / "models" / str(alice.pk)
    assert files_under(owner_folder) == []
    temporary_before = set(files_under(loopback_stack.tmp_dir))
    upload = RawRequest(
        loopback_stack.base_url,
        "POST",
        "/api/models/",
        {
            **bearer(alice),
            "Content-Type": content_type,
            "Content-Length": str(len(head) + len(rest)),
            "X-Request-Id": "trickling-upload-01",
        },
    )
    try:
        upload.send(head + rest[:1000])
        # 100 bytes every 0.1 s: 1 KB/s, a quarter of the test stack's 4 KiB/s floor.
        status, headers, body = trickle_until_answered(
            upload, piece=b"x" * 100, every=0.1, limit=60
        )
    finally:
        upload.close()
    assert status == 408, body
    assert headers["content-type"].startswith("application/json")
    error = requests.models.complexjson.loads(body)["error"]
    assert error["code"] == "upload_too_slow"
    assert error["request_id"] == "trickling-upload-01"
    assert not NefModel.objects.filter(owner=alice).exists()
    assert files_under(owner_folder) == []
    # Django's temporary file for the part is gone once the request is over.
    wait_for(lambda: set(files_under(loopback_stack.tmp_dir)) <= temporary_before, timeout=60)


def test_a_trickling_conversion_upload_is_cut_before_any_job(loopback_stack, alice):
    boundary = "trickle-conversion"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="platform"\r\n\r\n720\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="m.onnx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    upload = RawRequest(
        loopback_stack.base_url,
        "POST",
        "/api/conversion/init",
        {
            **bearer(alice),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + 1_000_000),
        },
    )
    try:
        upload.send(head)
        status, _headers, body = trickle_until_answered(
            upload, piece=b"\x08" * 100, every=0.1, limit=60
        )
    finally:
        upload.close()
    assert status == 408, body
    assert requests.models.complexjson.loads(body)["error"]["code"] == "upload_too_slow"
    assert not ConversionJob.objects.filter(owner=alice).exists()


def test_past_the_cap_an_upload_is_refused_at_once_and_a_hang_up_frees_the_slot(
    loopback_stack_factory, alice
):
    stack = loopback_stack_factory.start(
        env={
            "GUNICORN_WORKERS": "1",
            "STREAMED_UPLOADS_PER_PROCESS": "1",
            "UPLOAD_FLOOR_WINDOW_SECONDS": "600",
        },
        relays=0,
    )
    token = bearer(alice)
    head, rest, content_type = model_form(100_000)
    form_headers = {
        **token,
        "Content-Type": content_type,
        "Content-Length": str(len(head) + len(rest)),
    }
    # Two uploads start, neither sends its whole body: the process takes one and answers
    # the other 503 at once, without waiting for its body.
    first, second = (RawRequest(stack.base_url, "POST", "/api/models/", form_headers) for _ in "ab")
    for client in (first, second):
        client.send(head + rest[:50_000])

    def one_answered():
        readable, _, _ = select.select([first.sock, second.sock], [], [], 0)
        return readable

    answered = wait_for(one_answered, timeout=60, interval=0.05)
    assert len(answered) == 1
    refused, holder = (first, second) if answered[0] is first.sock else (second, first)
    status, headers, body = refused.answer()
    refused.close()
    assert status == 503, body
    assert requests.models.complexjson.loads(body)["error"]["code"] == "uploads_busy"
    assert int(headers["retry-after"]) > 0
    # The worker's other threads still serve everyone else.
    assert requests.get(stack.url("/api/models/"), headers=token, timeout=30).status_code == 200
    assert not select.select([holder.sock], [], [], 0)[0]  # still streaming

    holder.close()  # the client hangs up: its slot comes back

    def accepted():
        answer = requests.post(
            stack.url("/api/models/"), data=head + rest, headers=form_headers, timeout=30
        )
        assert answer.status_code in (201, 503), answer.text
        return answer if answer.status_code == 201 else None

    created = wait_for(accepted, timeout=60, interval=0.2)
    assert created.json()["size_bytes"] == 100_000
