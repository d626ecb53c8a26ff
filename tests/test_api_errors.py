"""Every API error leaves in one envelope: {"error": {code, message, details, request_id}}."""

import json

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["message"] and isinstance(error["message"], str)
    assert error["request_id"] == response["X-Request-Id"]
    return error


def test_it_answers_401_when_signed_out(client):
    response = client.get("/api/test/forbidden")
    assert_envelope(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"]


def test_it_lists_invalid_fields(alice_client):
    response = alice_client.post(
        "/api/test/echo", {"name": "too long", "count": 0}, content_type="application/json"
    )
    error = assert_envelope(response, 400, "validation_failed")
    fields = {item["field"] for item in error["details"]["fields"]}
    assert fields == {"name", "count"}


def test_it_answers_malformed_json_with_400(alice_client):
    response = alice_client.post("/api/test/echo", "{nope", content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_it_answers_403(alice_client):
    assert_envelope(alice_client.get("/api/test/forbidden"), 403, "permission_denied")


def test_it_answers_404_for_unknown_api_routes(alice_client):
    assert_envelope(alice_client.get("/api/no/such/thing"), 404, "not_found")


def test_it_answers_405(alice_client):
    assert_envelope(alice_client.get("/api/test/echo"), 405, "method_not_allowed")


def test_it_answers_413_for_a_body_over_the_limit(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"blob": "x" * 500})
    response = client.post("/api/test/public-echo", body, content_type="application/json")
    assert_envelope(response, 413, "payload_too_large")


def test_it_hides_internals_on_500(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/api/test/broken")
    error = assert_envelope(response, 500, "internal_error")
    assert b"hunter2" not in response.content
    assert error["details"] == {}


def test_it_translates_the_message(alice_client):
    response = alice_client.get("/api/test/forbidden", HTTP_ACCEPT_LANGUAGE="zh-hant")
    error = assert_envelope(response, 403, "permission_denied")
    assert error["message"] != "You do not have permission to do this."


def test_pages_get_an_error_page_not_json(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/test/broken")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"page internals" not in response.content
    assert b"Something went wrong" in response.content


def test_unknown_pages_get_the_404_page(alice_client):
    response = alice_client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.fixture
def csrf_client(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def test_a_missing_csrf_token_is_not_a_permission_problem(csrf_client):
    body = {"name": "ok", "count": 1}
    response = csrf_client.post("/api/test/echo", body, content_type="application/json")
    error = assert_envelope(response, 403, "csrf_failed")
    assert "X-CSRFToken" in error["message"]
    assert error["details"] == {"reason": "CSRF cookie not set."}


def test_a_wrong_csrf_token_says_so_in_the_users_language(csrf_client):
    csrf_client.cookies["csrftoken"] = "a" * 32
    response = csrf_client.post(
        "/api/test/echo",
        {"name": "ok", "count": 1},
        content_type="application/json",
        HTTP_X_CSRFTOKEN="b" * 32,
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    error = assert_envelope(response, 403, "csrf_failed")
    assert "CSRF" in error["message"] and "X-CSRFToken" in error["message"]
    assert not error["message"].startswith("The CSRF token")


def test_the_right_csrf_token_passes(csrf_client):
    csrf_client.cookies["csrftoken"] = "a" * 32
    response = csrf_client.post(
        "/api/test/echo",
        {"name": "ok", "count": 1},
        content_type="application/json",
        HTTP_X_CSRFTOKEN="a" * 32,
    )
    assert response.status_code == 200, response.content


def test_pages_answer_too_many_fields_with_a_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = {f"field{i}": "x" for i in range(10)}
    response = Client(raise_request_exception=False).post("/accounts/login/", body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"too many form fields" in response.content


class _ClientWentAway:
    def read(self, size=-1):
        raise OSError("connection reset by peer")

    def readline(self, size=-1):
        raise OSError("connection reset by peer")


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/agent/pair"])
def test_a_body_cut_short_is_a_400_not_a_500(path):
    client = Client(raise_request_exception=False)
    response = client.generic(
        "POST",
        path,
        "x" * 100,
        content_type="application/x-www-form-urlencoded"
        if path.startswith("/accounts")
        else "application/json",
        **{"wsgi.input": _ClientWentAway()},
    )
    assert response.status_code == 400, response.content[:200]
