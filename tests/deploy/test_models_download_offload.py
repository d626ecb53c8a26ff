"""A My models download through nginx: the app authorizes and answers X-Accel-Redirect,
nginx sends the file, and the client sees the very answer the app streams without
nginx (make run) — the same headers, the same bytes."""

from __future__ import annotations

import pytest
import requests

from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream
from tests.loopback import signed_in_session, use_stack_storage
from tests.models_repo.conftest import nef_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

# Hop by hop, or the server's own: these differ between nginx and gunicorn by nature.
HOP_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


def comparable(headers) -> dict[str, str]:
    return {
        name.lower(): value for name, value in headers.items() if name.lower() not in HOP_HEADERS
    }


@pytest.fixture
def stored_model(loopback_stack, settings, alice):
    use_stack_storage(settings, loopback_stack)
    # A stored name with more than ASCII in it: the X-Accel-Redirect path is quoted.
    return model_create_from_stream(
        owner=alice,
        name="détecteur 人",
        chips=["KL520"],
        source=ModelSource.UPLOADED,
        filename="détecteur 人.nef",
        chunks=[nef_bytes(300_000, seed=1)],
    )


@pytest.mark.parametrize("path", ["/api/models/{id}/download", "/models/{id}/download/"])
def test_nginx_sends_the_file_with_the_apps_headers(loopback_stack, alice, stored_model, path):
    cookies = {"visiona_session": signed_in_session(alice)}
    headers = {"X-Request-Id": "download-compare-0001"}
    url = path.format(id=stored_model.pk)
    through_nginx = requests.get(loopback_stack.url(url), cookies=cookies, headers=headers)
    streamed = requests.get(loopback_stack.direct_url(url), cookies=cookies, headers=headers)
    assert through_nginx.status_code == streamed.status_code == 200
    assert through_nginx.content == streamed.content == nef_bytes(300_000, seed=1)
    assert comparable(through_nginx.headers) == comparable(streamed.headers)
    assert through_nginx.headers["Content-Length"] == "300000"
    assert "X-Accel-Redirect" not in through_nginx.headers
    assert "Last-Modified" not in through_nginx.headers


def test_the_app_hands_the_file_over_only_to_an_nginx_that_offers(
    loopback_stack, alice, stored_model
):
    cookies = {"visiona_session": signed_in_session(alice)}
    url = f"/api/models/{stored_model.pk}/download"
    offered = requests.get(
        loopback_stack.direct_url(url), cookies=cookies, headers={"X-Visiona-Offload": "files"}
    )
    assert offered.status_code == 200
    assert offered.content == b""
    redirect = offered.headers["X-Accel-Redirect"]
    assert redirect.startswith("/_internal/files/whole/")
    # Asked from outside, that location answers nothing; a client's own offer header is
    # replaced by nginx's.
    outside = requests.get(loopback_stack.url(redirect), cookies=cookies)
    assert outside.status_code == 404
    assert outside.content != nef_bytes(300_000, seed=1)
    spoofed = requests.get(
        loopback_stack.url(url), cookies=cookies, headers={"X-Visiona-Offload": "none"}
    )
    assert spoofed.content == nef_bytes(300_000, seed=1)


def test_another_users_model_is_refused_before_any_file(loopback_stack, bob, stored_model):
    cookies = {"visiona_session": signed_in_session(bob)}
    answer = requests.get(
        loopback_stack.url(f"/api/models/{stored_model.pk}/download"), cookies=cookies
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "model_not_found"
