"""A slow client holds nginx, not a web thread: with more slow clients through nginx than
gunicorn has threads (slow senders of ordinary bodies, readers that read nothing of a
large answer the app streams), another user's request is still answered."""

from __future__ import annotations

import select

import pytest
import requests

from tests.deploy.slow_clients import RawRequest, bearer
from tests.loopback import use_stack_storage
from tests.models_repo.conftest import nef_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

SIZE = 24 * 1024 * 1024  # past what nginx's and the kernel's buffers hold at once


def test_slow_clients_through_nginx_leave_the_threads_free(
    loopback_stack_factory, settings, alice, bob, make_model
):
    # One worker with two threads; nginx does not offload files here, so every download
    # below is streamed by the app (and read into nginx's buffers and temporary file).
    stack = loopback_stack_factory.start(
        env={"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2"},
        nginx_values={"VISIONA_OFFLOAD": ""},
        relays=0,
    )
    use_stack_storage(settings, stack)
    model = make_model(alice, "large", size=SIZE)
    alice_token, bob_token = bearer(alice), bearer(bob)
    readers = [
        RawRequest(stack.base_url, "GET", f"/api/models/{model.pk}/download", alice_token)
        for _ in range(3)
    ]
    senders = [
        RawRequest(
            stack.base_url,
            "PATCH",
            f"/api/models/{model.pk}",
            {**alice_token, "Content-Type": "application/json", "Content-Length": "100000"},
        )
        for _ in range(3)
    ]
    for sender in senders:
        sender.send(b'{"description": "')  # and the rest much later
    try:
        # Five slow clients, two threads: another user is answered all the same.
        listing = requests.get(stack.url("/api/models/"), headers=bob_token, timeout=60)
        assert listing.status_code == 200
        assert listing.json()["count"] == 0
        assert requests.get(stack.url("/healthz"), timeout=60).status_code == 200
        # The slow ones were there all along: nothing answered the senders yet, and each
        # reader gets the whole file when it finally reads.
        assert not select.select([sender.sock for sender in senders], [], [], 0)[0]
        status, _headers, body = readers[0].answer(timeout=120)
        assert status == 200 and len(body) == SIZE and body[-4:] == nef_bytes(SIZE, seed=1)[-4:]
        for sender in senders:
            assert sender.send(b"x" * (100_000 - 17))
            status, _headers, _body = sender.answer(timeout=60)
            assert status == 400  # an unterminated JSON string, read whole at last
    finally:
        for client in readers + senders:
            client.close()
