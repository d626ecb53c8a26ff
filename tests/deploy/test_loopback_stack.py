"""The loopback stack from its one command, and what the shipped nginx configuration
does for every request: static files, nginx's own errors in the app's shapes,
internal locations refused from outside, the forwarded client address."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from deploy.loopback import ROOT, wait_until
from tests.loopback import signed_in_session, stack_database_url

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.django_db(transaction=True)
def test_the_stack_starts_from_its_one_command(tmp_path, settings):
    from tests.loopback import _require_stack_services

    _require_stack_services()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VISIONA_TEST_CACHE_KEY_PREFIX": settings.TEST_CACHE_KEY_PREFIX,
    }
    log = tmp_path / "stack.log"
    with log.open("w") as out:
        urls = ["--database-url", stack_database_url(), "--redis-url", settings.REDIS_URL]
        process = subprocess.Popen(
            [sys.executable, "-m", "deploy.loopback", *urls],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or "Ctrl-C" in log.read_text(),
            seconds=180,
            what="python -m deploy.loopback",
        )
        assert process.poll() is None, log.read_text()
        site = log.read_text().split("site (nginx):", 1)[1].split()[0].rstrip("/")
        health = requests.get(f"{site}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["checks"] == {"postgres": "ok", "redis": "ok"}
        assert health.headers["X-Request-Id"]
        assert requests.get(f"{site}/static/css/app.css", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()


@pytest.mark.django_db(transaction=True)
def test_static_files_come_from_nginx(loopback_stack):
    answer = requests.get(loopback_stack.url("/static/css/app.css"), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/css")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    # The app's answers carry a request id; nginx's own static answer does not.
    assert "X-Request-Id" not in answer.headers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    [
        "/_internal/files/whole/1/x/model.nef",
        "/_internal/errors/",
        "/_internal/errors/device-unreachable",
    ],
)
def test_internal_locations_answer_nothing_from_outside(loopback_stack, path):
    api = requests.get(loopback_stack.url("/api" + path), timeout=10)
    page = requests.get(loopback_stack.url(path), timeout=10)
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "visionA Cloud" in page.text
    assert api.status_code in (401, 404)  # the app's own answer: /api/_internal is no URL


@pytest.mark.django_db(transaction=True)
def test_nginx_errors_under_api_are_the_envelope(loopback_stack):
    body = b"x" * (5 * 1024 * 1024)  # past the 4 MiB of an ordinary request
    answer = requests.post(
        loopback_stack.url("/api/tokens/"),
        data=body,
        headers={"X-Request-Id": "caller-chosen-id-1", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["request_id"] == "caller-chosen-id-1"
    assert answer.headers["X-Request-Id"] == "caller-chosen-id-1"


@pytest.mark.django_db(transaction=True)
def test_nginx_error_pages_speak_the_users_language(loopback_stack):
    page = requests.get(
        loopback_stack.url("/static/no-such-file.css"),
        headers={"Accept-Language": "zh-TW,zh;q=0.9"},
        timeout=10,
    )
    assert page.status_code == 404
    assert 'lang="zh-hant"' in page.text
    assert "charset=utf-8" in page.headers["Content-Type"]
    english = requests.get(
        loopback_stack.url("/static/no-such-file.css"),
        cookies={"django_language": "en"},
        headers={"Accept-Language": "zh-TW"},
        timeout=10,
    )
    assert 'lang="en"' in english.text


@pytest.mark.django_db(transaction=True)
def test_a_missing_app_is_the_envelope_not_a_bare_502(loopback_stack_factory):
    stack = loopback_stack_factory.start(relays=0)
    stack.gunicorn.popen.terminate()
    stack.gunicorn.popen.wait(timeout=60)
    api = requests.get(stack.url("/api/models/"), timeout=30)
    assert api.status_code == 502
    assert api.json()["error"]["code"] == "service_unavailable"
    assert api.json()["error"]["request_id"] == api.headers["X-Request-Id"]
    page = requests.get(stack.url("/models/"), timeout=30)
    assert page.status_code == 502
    assert "visionA" in page.text and "<html" in page.text
    json.dumps(api.json())  # the envelope is whole JSON


@pytest.mark.django_db(transaction=True)
def test_the_tls_server_serves_the_site_and_plain_http_moves_there(loopback_stack_factory, alice):
    stack = loopback_stack_factory.start(tls=True, relays=0)
    secure = requests.get(stack.https_base_url + "/healthz", verify=False, timeout=30)
    assert secure.status_code == 200
    assert secure.json()["status"] == "ok"
    plain = requests.get(stack.url("/models/?page=2"), allow_redirects=False, timeout=30)
    assert plain.status_code == 308
    assert plain.headers["Location"] == stack.https_base_url + "/models/?page=2"
    # Behind TLS the app knows the request is secure (nginx's X-Forwarded-Proto, which it
    # trusts from nginx): Django's CSRF check then asks for a same-site Referer.
    cookies = {"visiona_session": signed_in_session(alice)}
    refused = requests.post(
        stack.https_base_url + "/api/tokens/", cookies=cookies, verify=False, timeout=30
    )
    assert refused.status_code == 403
    assert "Referer" in refused.json()["error"]["details"]["reason"]
