"""Drives every API endpoint with bodies that cannot be read: never a 5xx.

Bad input (deep JSON, too many fields or files, an oversized body, a broken
multipart form, a wrong content type) is a 4xx in the error envelope, whether
it trips the view's parser or the CSRF check before it. The endpoints come
from the resolver, so one added later is driven too.
"""

from __future__ import annotations

import json
import logging

import pytest
import responses
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import transaction
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import get_resolver, resolve, reverse

from devices import services as device_services
from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream
from tests.conversion.factories import make_job
from tests.conversion.upstreams import CONVERTER, upstream, upstream_settings  # noqa: F401
from tests.multipart import multipart_body
from tests.test_url_access import ALL_URLS
from visiona.errors import request_parse_error

pytestmark = pytest.mark.django_db

MAX_FIELDS = 10
MAX_FILES = 3
MAX_MEMORY = 8192
BOUNDARY = "visionaMalformedBoundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _multipart(parts: list[tuple[str, str | None, bytes]], *, close: bool = True) -> bytes:
    return multipart_body(parts, BOUNDARY, close=close)


# (label, content type, body)
MALFORMED_BODIES: list[tuple[str, str, bytes]] = [
    ("deep json", "application/json", b"[" * 1_500 + b"]" * 1_500),
    ("deep json object", "application/json", b'{"a":' * 1_200 + b"1" + b"}" * 1_200),
    ("invalid json", "application/json", b"{nope"),
    ("json not utf-8", "application/json", b'\xff\xfe{"name": "x"}'),
    ("json unknown charset", "application/json; charset=nope", b'{"name": "x"}'),
    ("json too big", "application/json", b'{"name": "' + b"x" * (2 * MAX_MEMORY) + b'"}'),
    (
        "too many form fields",
        "application/x-www-form-urlencoded",
        "&".join(f"f{i}=x" for i in range(3 * MAX_FIELDS)).encode(),
    ),
    ("form unknown charset", "application/x-www-form-urlencoded; charset=nope", b"name=x"),
    ("form too big", "application/x-www-form-urlencoded", b"name=" + b"x" * (2 * MAX_MEMORY)),
    (
        "too many multipart files",
        MULTIPART,
        _multipart([("file", f"f{i}.nef", b"x") for i in range(3 * MAX_FILES)]),
    ),
    (
        "too many multipart fields",
        MULTIPART,
        _multipart([(f"f{i}", None, b"x") for i in range(3 * MAX_FIELDS)]),
    ),
    (
        "multipart field too big",
        MULTIPART,
        _multipart([("name", None, b"x" * (2 * MAX_MEMORY))]),
    ),
    ("multipart without boundary", "multipart/form-data", _multipart([("name", None, b"x")])),
    ("multipart wrong boundary", "multipart/form-data; boundary=other", b"--nope\r\n\r\n"),
    ("multipart bad boundary", "multipart/form-data; boundary=" + "b" * 80, b"x"),
    ("multipart truncated", MULTIPART, _multipart([("name", None, b"x")], close=False)[:-4]),
    ("multipart unknown charset", MULTIPART + "; charset=nope", _multipart([("name", None, b"x")])),
    ("wrong content type", "text/plain", b"name=x"),
    ("missing content type", "", b'{"name": "x"}'),
]

BODY_METHODS = ("post", "put", "patch", "delete")
API_URLS = [(path, name) for path, name in ALL_URLS if path.startswith("/api/")]


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = MAX_FIELDS
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = MAX_FILES
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_MEMORY


@pytest.fixture
def converter(request):
    # Conversion views reach the (fake) converter only for a readable body.
    mock = request.getfixturevalue("upstream")
    mock.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})

    def create(request):
        # Like the real converter, read the whole streamed form before answering.
        body = request.body if isinstance(request.body, bytes) else b"".join(request.body)
        return 400, {}, json.dumps({"error": "bad form", "size": len(body)})

    mock.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    return mock


@pytest.fixture
def alice_things(alice):
    """Real objects of alice's, so every path resolves to something she owns."""
    model = model_create_from_stream(
        owner=alice,
        name="detector",
        chips=["KL520"],
        source=ModelSource.UPLOADED,
        filename="detector.nef",
        chunks=[b"nef" * 100],
    )
    issued = device_services.pairing_code_create(user=alice)
    paired = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="MALFORMED-1",
        chip="KL720",
        client_address="192.0.2.10",
    )
    job = make_job(alice, status="failed")
    kwargs = {
        "model_id": model.pk,
        "device_id": paired.device.pk,
        "token_id": paired.device_token.public_id,
        "pairing_code_id": issued.pairing_code.public_id,
        "job_id": job.job_id,
    }
    return kwargs, paired.token


def _path_for(sample_path: str, name: str | None, kwargs: dict) -> str:
    """The route with alice's objects in it (the walk's sample values otherwise)."""
    for _, params in get_resolver().reverse_dict.getlist(name)[0][0] if name else []:
        if set(params) <= set(kwargs):
            return reverse(name, kwargs={key: kwargs[key] for key in params})
    return sample_path


def _methods(path: str) -> list[str]:
    view = resolve(path).func
    handlers = [m for m in BODY_METHODS if hasattr(getattr(view, "view_class", None), m)]
    # POST always: a refused method still runs authentication, and its CSRF check reads forms.
    return sorted({"post", *handlers})


def _clients(alice, path: str, device_token: str) -> dict[str, Client]:
    anonymous = Client(enforce_csrf_checks=True)
    no_csrf = Client(enforce_csrf_checks=True)
    no_csrf.force_login(alice)
    # A cookie but no header: the check looks for the token in the form, so reads it.
    no_csrf.cookies["csrftoken"] = _get_new_csrf_string()
    with_csrf = Client(enforce_csrf_checks=True)
    with_csrf.force_login(alice)
    token = _get_new_csrf_string()
    with_csrf.cookies["csrftoken"] = token
    with_csrf.defaults["HTTP_X_CSRFTOKEN"] = token
    clients = {"anonymous": anonymous, "session without csrf": no_csrf, "session": with_csrf}
    if path.startswith("/api/agent/"):
        clients["device"] = Client(HTTP_AUTHORIZATION=f"Bearer {device_token}")
    return clients


def _problem(response) -> str | None:
    """What is wrong with the answer to an unreadable body, or None."""
    if response.status_code >= 500:
        return f"{response.status_code} {response.content[:200]!r}"
    if response.status_code >= 400:
        if not response["Content-Type"].startswith("application/json"):
            return f"{response.status_code} not JSON"
        error = response.json().get("error") or {}
        if set(error) != {"code", "message", "details", "request_id"}:
            return f"{response.status_code} not the envelope: {error}"
    return None


def test_it_walks_the_api():
    paths = {path for path, _ in API_URLS}
    assert {"/api/models/", "/api/conversion/init", "/api/agent/heartbeat"} <= paths


@pytest.mark.parametrize(("path", "name"), API_URLS, ids=[p for p, _ in API_URLS])
def test_unreadable_bodies_are_refused_not_crashes(
    path, name, alice, alice_things, small_limits, converter, caplog
):
    kwargs, device_token = alice_things
    target = _path_for(path, name, kwargs)
    caplog.set_level(logging.ERROR)
    problems = []
    for who, client in _clients(alice, path, device_token).items():
        for method in _methods(target):
            for label, content_type, body in MALFORMED_BODIES:
                context = (who, method.upper(), target, label)
                # Each request on its own: a successful DELETE must not change the next one.
                with transaction.atomic():
                    response = client.generic(method.upper(), target, body, content_type)
                    transaction.set_rollback(True)
                if problem := _problem(response):
                    problems.append((*context, problem))
    assert problems == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def _body(label: str) -> tuple[str, bytes]:
    (content_type, body) = next((c, b) for name, c, b in MALFORMED_BODIES if name == label)
    return content_type, body


@pytest.mark.parametrize(
    ("label", "status", "code"),
    [
        ("deep json", 400, "malformed_request"),
        ("deep json object", 400, "malformed_request"),
        ("too many form fields", 400, "malformed_request"),
        ("too many multipart fields", 400, "malformed_request"),
        ("too many multipart files", 400, "malformed_request"),
        ("json too big", 413, "payload_too_large"),
        ("multipart without boundary", 400, "malformed_request"),
    ],
)
@pytest.mark.parametrize("where", ["view", "csrf check"])
def test_each_kind_gets_its_answer(alice, alice_things, small_limits, label, status, code, where):
    content_type, body = _body(label)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    if where == "view":  # the CSRF token in its header: the view's parser reads the body
        method, path = "PATCH", f"/api/models/{alice_things[0]['model_id']}"
        client.defaults["HTTP_X_CSRFTOKEN"] = token
    else:  # a CSRF cookie but no header: the CSRF check reads the form first
        method, path = "POST", "/api/devices/pairing-codes"
    response = client.generic(method, path, body, content_type)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        (RequestDataTooBig(), 413, "payload_too_large"),
        (TooManyFieldsSent(), 400, "malformed_request"),
        (TooManyFilesSent(), 400, "malformed_request"),
        (SuspiciousMultipartForm(), 400, "malformed_request"),
        (DisallowedHost(), 400, "malformed_request"),
        (MultiPartParserError(), 400, "malformed_request"),
        (UnreadablePostError(), 400, "malformed_request"),
        (BadRequest(), 400, "malformed_request"),
    ],
)
def test_one_function_maps_every_parsing_failure(exception, status, code):
    error = request_parse_error(exception)
    assert (error.status, error.code) == (status, code)


@pytest.mark.parametrize("exception", [RuntimeError(), RecursionError(), ValueError(), None])
def test_other_failures_are_not_blamed_on_the_request(exception):
    assert request_parse_error(exception) is None


def test_pages_log_an_unreadable_request_as_one_warning_line(client, settings, caplog):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = MAX_FIELDS
    body = {f"f{i}": "x" for i in range(3 * MAX_FIELDS)}
    assert client.post("/accounts/login/", body).status_code == 400
    # Django logs it as an ERROR with a traceback; the console handler's filter (set
    # in LOGGING, and run before pytest's own handler) makes it one warning line.
    (record,) = [r for r in caplog.records if r.name.startswith("django.security.")]
    assert (record.levelname, record.exc_info) == ("WARNING", None)


# --- Crafted page and cursor values on every paginated list --------------------------

PAGINATED_LISTS = [
    "/api/conversion/",
    "/api/models/",
    "/api/deployments",
    "/api/runs",
    "/api/rollouts",
]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("path", PAGINATED_LISTS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "99999999999999999999"),
        ("page", "2"),
        ("page_size", "99999999999999999999"),
        ("cursor", "garbage"),
        ("cursor", _b64("p=2026")),
        ("cursor", _b64("p=" + "9" * 30)),
        ("cursor", _b64("r=1&p=x")),
        ("cursor", _b64("o=" + "9" * 30)),
    ],
)
def test_a_crafted_page_or_cursor_is_never_a_5xx(alice_client, alice, path, name, value):
    make_job(alice, status="completed")  # a row for a cursor's position to be compared with
    response = alice_client.get(path, {name: value})
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] in {"validation_failed", "not_found"}
