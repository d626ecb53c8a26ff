"""The API answers as its OpenAPI document says: schemathesis, all checks.

The document is the one the app serves at /api/schema/. schemathesis runs all
its phases and checks against the WSGI app, whose upstreams are the sandbox in
a live server (as with ``make run``), twice: signed out
(tests/test_openapi_conformance_signed_out.py), and signed in
(tests/test_openapi_conformance_signed_in.py: a session with its CSRF token, plus a
device token for /api/agent/). The two passes are files of their own so that the two
test processes (``--dist loadfile``) run them side by side: each takes minutes under
load, one after the other they were the tail of the run. Examples are bounded (and the
seed fixed); every failure is listed with its operation and check. Raise MAX_EXAMPLES or
change the seed locally to dig deeper (200 examples: about 90 s, and it passes).
"""

from __future__ import annotations

import secrets
import threading

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test import Client
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.transport.wsgi import WSGITransport

from devices import services as device_services
from visiona.api.schema import documented_codes

# Each test file's marks (both need the live server's sandbox and real transactions).
MARKS = [pytest.mark.django_db(transaction=True), pytest.mark.live]

MAX_EXAMPLES = 60
# Refusals schemathesis does not count as one by default: no Content-Length, too large.
REJECTED = [400, 401, 403, 404, 405, 406, 409, 411, 413, 415, 422, 428, 429, "5xx"]
# A schema cannot say what makes these valid: a real pairing code (a secret), a real
# .nef file, a cursor from a previous answer's link. A well-formed guess is refused
# with 400, as documented.
ACCEPTED = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]
CONTENT_CHECKED = [
    "agent_pair_create",
    "models_upload",
    "conversion_init_create",
    "conversion_list",
]
# Relayed to a device: 502/503/504 are the device's state (unreachable, offline, too
# slow), documented answers rather than server errors. Any 500 still fails.
RELAYED = [
    "system_deps",
    *(f"devices_agent_{method}" for method in ("get", "post", "put", "patch", "delete")),
]
DEVICE_STATES = ["2xx", "3xx", "4xx", 502, 503, 504]


@schemathesis.check
def error_code_documented(ctx, response, case):
    """An error's ``code`` is one its operation lists under that status (the common codes
    merged into the operation's own, visiona/api/schema.py)."""
    if response.status_code < 400:
        return None
    definition = case.operation.responses.get(str(response.status_code))
    if definition is None:
        return None  # an undocumented status: status_code_conformance reports it
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None  # not the envelope: response_schema_conformance reports it
    description = definition.definition.get("description", "")
    if code not in documented_codes(description):
        raise AssertionError(
            f"{code} answered with {response.status_code}, which lists: {description}"
        )
    return None


def _document(user) -> dict:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _signed_in_as(user, device_owner):
    """A schemathesis auth provider: the user's session and CSRF token, and a
    device token of someone else's (the user's own deletes cannot unpair it)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    csrf = secrets.token_hex(16)
    code = device_services.pairing_code_create(user=device_owner).code
    device_token = device_services.device_pair(
        code=code, serial="SCHEMA-0001", chip="KL720", client_address="192.0.2.1"
    ).token

    class SignedIn:
        def get(self, case, context):
            return True

        def set(self, case, data, context):
            case.cookies = {
                **(case.cookies or {}),
                django_settings.SESSION_COOKIE_NAME: session,
                django_settings.CSRF_COOKIE_NAME: csrf,
            }
            case.headers = {**(case.headers or {}), "X-CSRFToken": csrf}
            if case.path.startswith("/api/agent/"):
                case.headers["Authorization"] = f"Bearer {device_token}"

    return SignedIn


def _closing_connections(application):
    """The app as schemathesis calls it, from its own worker thread: that thread's
    database connection is closed after each request, not left open past the test."""
    main = threading.main_thread()

    def app(environ, start_response):
        try:
            return application(environ, start_response)
        finally:
            if threading.current_thread() is not main:
                connections.close_all()

    return app


def _pass_only_wsgi_arguments(monkeypatch) -> None:
    # schemathesis 4.32's auth probes (ignored_auth) hand the WSGI transport the
    # network-only options too (max_redirects...), which werkzeug refuses.
    send = WSGITransport.send

    def wsgi_send(self, case, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", wsgi_send)


def _failures(schema) -> list[str]:
    found = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for results in event.recorder.checks.values():
                for result in results:
                    if result.failure_info is not None:
                        failure = result.failure_info.failure
                        found.add(f"{event.recorder.label}: {failure.title}: {failure.message}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.add(f"error: {event.info.format()}"[:2000])
    return sorted(found)


def check_the_api_answers_as_documented(alice, bob, *, signed_in: bool, monkeypatch) -> None:
    """One schemathesis pass over every operation (the sandbox fixture already points the
    app's upstreams at the live server); fails listing every failure found."""
    _pass_only_wsgi_arguments(monkeypatch)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 10,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {
                "enabled": True,
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
            "operations": [
                {
                    "include-operation-id": CONTENT_CHECKED,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
                },
                {
                    "include-operation-id": RELAYED,
                    "checks": {"not_a_server_error": {"expected-statuses": DEVICE_STATES}},
                },
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(_document(alice), config=config)
    schema.app = _closing_connections(get_wsgi_application())
    if signed_in:
        schema.auth()(_signed_in_as(alice, device_owner=bob))
    failures = _failures(schema)
    assert failures == [], "\n".join(failures)
