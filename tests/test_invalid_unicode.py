"""Text that is not valid Unicode is refused at the door, as a 400 in the envelope.

A JSON ``\\ud800`` escape decodes to a lone surrogate, which no database, log line or
JSON answer can encode: anywhere it went it would be a 500 later. The API's JSON
parser refuses it for every body (agents' and users'), in values and in keys, in any
charset; JSON read from a device is treated as not JSON. Query strings and paths with
bytes that are not UTF-8 are decoded with replacement characters, never a 500.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from deployments import services as deployment_services
from tests.deployments.conftest import (  # noqa: F401  (fixtures)
    agent_client,
    alice_device,
    alice_kl720,
    issue_code,
    make_model,
    nef_bytes,
    pair,
)
from visiona.api import parsers

pytestmark = pytest.mark.django_db

LONE = ["\\ud800", "\\udfff", "\\uDBFF", "x\\ud83dy", "\\ude00\\ud83d"]


def raw_json(template: str, text: str) -> bytes:
    return template.replace("TEXT", text).encode()


def assert_malformed(response) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["error"]["code"] == "malformed_request"
    assert body["error"]["request_id"]


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):  # noqa: F811
    return deployment_services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


@pytest.mark.parametrize("text", LONE)
@pytest.mark.parametrize(
    "template",
    [
        '{"code": "TEXT", "serial": "SN-1", "chip": "KL720"}',
        '{"code": "ABCD-EFGH", "serial": "SN-1", "chip": "TEXT"}',
        '{"code": "ABCD-EFGH", "serial": "SN-1", "chip": "KL720", "TEXT": 1}',
    ],
)
def test_a_pairing_exchange_with_a_lone_surrogate_is_400(template, text):
    response = Client().post(
        "/api/agent/pair", raw_json(template, text), content_type="application/json"
    )
    assert_malformed(response)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/agent/heartbeat", '{"status": "TEXT"}'),
        ("/api/agent/heartbeat", '{"agent_version": "TEXT"}'),
        ("STATE", '{"state": "TEXT"}'),
        ("STATE", '{"state": "failed", "error_code": "x", "error_message": "TEXT"}'),
        ("STATE", '{"state": "downloading", "extra": ["a", {"TEXT": "b"}]}'),
    ],
)
def test_an_agent_body_with_a_lone_surrogate_is_400(
    agent_client,  # noqa: F811
    alice_device,  # noqa: F811
    deployment,
    path,
    template,
):
    if path == "STATE":
        path = f"/api/agent/deployments/{deployment.pk}/state"
    agent = agent_client(alice_device.token)
    response = agent.generic(
        "POST", path, raw_json(template, "\\ud800"), content_type="application/json"
    )
    assert_malformed(response)


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/tokens/", '{"name": "TEXT", "scopes": ["read"], "expires_in_days": 1}'),
        ("POST", "/api/tokens/", '{"name": "ci", "scopes": ["TEXT"], "expires_in_days": 1}'),
        ("POST", "/api/deployments", '{"model": 1, "device_ids": [], "TEXT": true}'),
        ("POST", "/api/deployments", '{"model": 1, "device_ids": ["TEXT"]}'),
    ],
)
def test_a_users_body_with_a_lone_surrogate_is_400(alice_client, method, path, template):
    response = alice_client.generic(
        method, path, raw_json(template, "\\udc00"), content_type="application/json"
    )
    assert_malformed(response)


def test_another_charset_hides_no_surrogate(alice_client):
    # A str: the test client encodes it in the Content-Type's charset.
    body = '{"name": "\\ud800", "scopes": ["read"], "expires_in_days": 1}'
    response = alice_client.post(
        "/api/tokens/", body, content_type="application/json; charset=utf-16"
    )
    assert_malformed(response)


def test_a_valid_pair_of_surrogates_is_the_character_it_stands_for(alice_client):
    body = '{"name": "ci \\ud83d\\ude00", "scopes": ["read"], "expires_in_days": 1}'
    response = alice_client.post("/api/tokens/", body.encode(), content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["name"] == "ci \U0001f600"


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/?search=%ED%A0%80",
        "/api/models/?search=%FF%FE",
        "/api/conversion/?status=%ED%A0%80",
        "/api/deployments?model=%ED%A0%80",
        "/api/models/%ED%A0%80",
        "/api/devices/%ED%A0%80",
    ],
)
def test_query_strings_and_paths_that_are_not_utf8_are_never_a_500(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code in (200, 400, 404), response.content[:300]
    response.json()  # the envelope (or the answer), as JSON


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": "\\ud800"}', None),
        (b'{"\\udfff": 1}', None),
        (b'["\\ud83d\\ude00"]', ["\U0001f600"]),
        (b'{"a": "\\u00e9"}', {"a": "\u00e9"}),
    ],
)
def test_json_from_outside_is_read_strictly(raw, expected):
    if expected is None:
        with pytest.raises(ValueError):
            parsers.loads(raw)
    else:
        assert parsers.loads(raw) == expected
        assert parsers.loads(raw.decode()) == expected


def test_a_devices_answer_with_a_lone_surrogate_is_not_json(monkeypatch):
    from devices import relay_client

    class Answer(relay_client.RelayedAnswer):
        def __init__(self, body: bytes) -> None:
            self._body = body

        def __iter__(self):
            yield self._body

        def close(self) -> None:
            pass

    assert Answer(b'{"models": ["\\ud800"]}').read_json(limit=1024) is None
    assert Answer(json.dumps({"models": []}).encode()).read_json(limit=1024) == {"models": []}
