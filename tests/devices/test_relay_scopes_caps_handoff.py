"""The relayed view's decisions before any byte moves: token scope per method, the caps,
and the handoff to nginx (its headers and its grant)."""

from __future__ import annotations

import uuid

import pytest
import responses

from devices import relay_grant, relay_slots, tunnel_registry
from tests.tokens.conftest import bearer, make_token  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"
METHODS = ["get", "head", "post", "put", "patch", "delete", "options"]
SCOPE_SETS = [["read"], ["convert"], ["deploy"], ["read", "convert"], ["read", "convert", "deploy"]]


@pytest.fixture
def connected(alice_device):
    device = alice_device.device
    tunnel_registry.register(
        device_id=str(device.pk), node_url=NODE, connection_id=uuid.uuid4().hex
    )
    return device


@pytest.fixture
def node():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def url(device, path: str = "api/thing") -> str:
    return f"/api/devices/{device.pk}/agent/{path}"


def allowed(method: str, scopes: list[str]) -> bool:
    """docs/cli.md: GET and HEAD need read; every other method deploy."""
    return ("read" if method in ("get", "head") else "deploy") in scopes


@pytest.mark.parametrize("scopes", SCOPE_SETS, ids=["+".join(s) for s in SCOPE_SETS])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_needs_its_scope(client, alice, make_token, connected, node, method, scopes):  # noqa: F811
    node.add(method.upper(), f"{NODE}/devices/{connected.pk}/api/thing", status=204)
    token = make_token(alice, scopes=scopes)
    response = getattr(client, method)(url(connected), **bearer(token.secret))
    if allowed(method, scopes):
        assert response.status_code == 204, response.content
        assert node.calls[-1].request.method == method.upper()
    else:
        assert response.status_code == 403
        if method != "head":  # a HEAD answer has no body
            assert response.json()["error"]["code"] == "token_scope_missing"
        assert len(node.calls) == 0


def test_system_deps_needs_read(client, alice, make_token, connected, node):  # noqa: F811
    node.get(f"{NODE}/devices/{connected.pk}/api/system/deps", json={})
    for scopes, status in ((["deploy"], 403), (["read"], 200)):
        token = make_token(alice, scopes=scopes, name="+".join(scopes))
        response = client.get("/api/system/deps", **bearer(token.secret))
        assert response.status_code == status


def test_over_the_cap_is_429_at_once_and_nothing_is_sent(
    alice_client, alice, connected, node, settings
):
    settings.RELAY_MAX_EXCHANGES_PER_DEVICE = 1
    held = relay_slots.slot_acquire(user_id=alice.pk, device_id=str(connected.pk))
    response = alice_client.get(url(connected))
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    error = response.json()["error"]
    assert error["code"] == "too_many_device_requests"
    assert error["details"] == {"cap": "device", "limit": 1}
    assert len(node.calls) == 0
    relay_slots.slot_release(slot=held)
    node.get(f"{NODE}/devices/{connected.pk}/api/thing", body=b"ok")
    assert alice_client.get(url(connected)).status_code == 200


def test_a_streamed_answer_holds_its_slot_until_it_is_closed(alice_client, alice, connected, node):
    node.get(f"{NODE}/devices/{connected.pk}/api/thing", body=b"answer")
    response = alice_client.get(url(connected))
    assert relay_slots.slots_held(user_id=alice.pk) == 1
    assert b"".join(response.streaming_content) == b"answer"
    response.close()
    assert relay_slots.slots_held(user_id=alice.pk) == 0


def test_a_refused_exchange_frees_its_slot(alice_client, alice, connected, node):
    node.get(
        f"{NODE}/devices/{connected.pk}/api/thing",
        status=504,
        json={},
        headers={"X-Relay-Error": "device_timeout"},
    )
    assert alice_client.get(url(connected)).status_code == 504
    assert relay_slots.slots_held(user_id=alice.pk) == 0


OFFLOAD = {"HTTP_X_VISIONA_OFFLOAD": "files relay"}


def test_behind_nginx_the_answer_is_handed_over(alice_client, alice, connected, node):
    response = alice_client.put(
        url(connected, "api/a%20b?x=1"),
        data=b"",
        content_type="text/plain",
        HTTP_X_REQUEST_ID="trace-handoff-1",
        HTTP_ACCEPT_LANGUAGE="zh-hant",
        HTTP_X_RELAY_BODY_LENGTH="5",
        **OFFLOAD,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert len(node.calls) == 0  # no byte of it went through this process
    assert response["X-Accel-Redirect"] == "@visiona_relay"
    assert response["X-Relay-Node"] == "relay-node.internal:3801"
    target = f"/devices/{connected.pk}/api/a%20b?x=1"
    assert response["X-Relay-Target"] == target
    grant = relay_grant.grant_verify(response["X-Relay-Grant"], method="PUT", target=target)
    assert grant is not None
    assert (grant.device_id, grant.user_id) == (str(connected.pk), alice.pk)
    assert grant.language == "zh-hant"
    assert grant.request_id == "trace-handoff-1"
    site = dict(grant.site_headers)
    assert site["X-Frame-Options"] == "DENY"
    assert site["X-Request-Id"] == "trace-handoff-1"
    assert site["Content-Language"] == "zh-hant"
    assert dict(grant.error_headers)["Allow"].startswith("GET, POST")
    # The slot is the relay's to renew and free now.
    assert relay_slots.slots_held(user_id=alice.pk) == 1
    assert grant.slot_id


def test_the_grant_is_for_one_method_and_target(alice_client, connected, **_):
    response = alice_client.get(url(connected), **OFFLOAD)
    value, target = response["X-Relay-Grant"], response["X-Relay-Target"]
    assert relay_grant.grant_verify(value, method="GET", target=target) is not None
    assert relay_grant.grant_verify(value, method="DELETE", target=target) is None
    assert relay_grant.grant_verify(value, method="GET", target=target + "x") is None
    assert relay_grant.grant_verify(value[:-2] + "xx", method="GET", target=target) is None


def test_without_the_relay_word_django_streams(alice_client, connected, node):
    node.get(f"{NODE}/devices/{connected.pk}/api/thing", body=b"streamed")
    response = alice_client.get(url(connected), HTTP_X_VISIONA_OFFLOAD="files")
    assert "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content) == b"streamed"


def test_behind_nginx_a_body_over_the_limit_is_413_from_its_stated_length(
    alice_client, connected, node, settings
):
    settings.RELAY_MAX_BODY_BYTES = 10
    response = alice_client.post(
        url(connected),
        data=b"",
        content_type="text/plain",
        HTTP_X_RELAY_BODY_LENGTH="11",
        **OFFLOAD,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
