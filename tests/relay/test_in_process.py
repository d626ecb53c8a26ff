"""The relay's logic in this process (SQLite or PostgreSQL), against a device the test drives.

Who may hold a tunnel (Bearer only, the periodic re-check that closes a tunnel whose
agent ignores every refusal, a deactivated owner, a database outage at the handshake),
what a device may answer (impossible statuses, headers), the deadlines, and a caller
that hangs up. The subprocess tests beside this one run the same node as
``manage.py run_relay``.
"""

from __future__ import annotations

import socket
import threading

import pytest
import requests
from django.db import OperationalError
from visiona_client.tunnel import IDLE_DEADLINE_HEADER, IDLE_MARGIN_SECONDS, PING_INTERVAL_HEADER
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from devices import liveness, services
from relay.exchange import Limits
from relay.h2_session import silence_seconds
from tests.relay.conftest import RECHECK_BACKSTOP_SECONDS
from tests.relay.harness import InProcessAgent, InProcessRelay, RawAgent, StandInDevice, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def device_token(alice):
    issued = services.pairing_code_create(user=alice)
    return services.device_pair(code=issued.code, serial="INPROC-0001", chip="KL720")


@pytest.fixture
def stand_in():
    device = StandInDevice()
    yield device
    device.stop()


@pytest.fixture
def relay(settings):
    node = InProcessRelay(
        Limits(max_body_bytes=1024 * 1024, head_seconds=1, idle_seconds=1, total_seconds=30)
    ).start()
    yield node
    node.stop()


@pytest.fixture
def agent(relay, device_token, stand_in):
    running = InProcessAgent(token=device_token.token, relay=relay, local_url=stand_in.url).start()
    wait_for(lambda: relay.connected(str(device_token.device.pk)))
    yield running
    running.stop()


def device_path(device_token, path: str) -> str:
    return f"/devices/{device_token.device.pk}/{path}"


def handshake_status(relay, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization else {}
    try:
        with connect(relay.tunnel_url, additional_headers=headers, open_timeout=5):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


# --- Who may hold a tunnel ---------------------------------------------------------------


def test_only_the_bearer_scheme_opens_a_tunnel(relay, device_token):
    token = device_token.token
    assert handshake_status(relay, f"Bearer {token}") == 101
    assert handshake_status(relay, f"bearer {token}") == 101  # schemes are case-blind
    for refused in (f"Basic {token}", f"Token {token}", token, f"Bearer {token} x", "Bearer"):
        assert handshake_status(relay, refused) == 401, refused


def test_the_handshake_tells_the_agent_how_often_to_ping(settings, device_token, stand_in):
    settings.RELAY_AGENT_PING_SECONDS = 7
    node = InProcessRelay().start()
    try:
        headers = {"Authorization": f"Bearer {device_token.token}"}
        with connect(node.tunnel_url, additional_headers=headers, open_timeout=5) as websocket:
            assert websocket.response.headers[PING_INTERVAL_HEADER] == "7"
        agent = InProcessAgent(token=device_token.token, relay=node, local_url=stand_in.url)
        agent.start()
        try:
            wait_for(lambda: agent.client.connected)
            assert agent.client.ping_seconds == 7
            assert agent.client._websocket.ping_interval == 7  # what its keepalive thread reads
        finally:
            agent.stop()
    finally:
        node.stop()


def test_a_refused_handshake_names_no_interval(relay):
    with pytest.raises(InvalidStatus) as refused:
        connect(relay.tunnel_url, additional_headers={"Authorization": "Bearer x"})
    assert PING_INTERVAL_HEADER not in refused.value.response.headers


def test_the_silence_a_tunnel_may_keep_covers_the_agents_ping_and_older_agents():
    assert silence_seconds(30) == 40
    assert silence_seconds(60) == 70  # under nginx's 75 s idle limit for the tunnel
    # Agents older than the hint ping every 15 s, and every agent's first ping comes
    # 15 s after it connected: never less than 15 s and the margin.
    assert silence_seconds(5) == silence_seconds(15) == 25


def test_the_recheck_closes_a_tunnel_whose_agent_ignores_refusals(relay, device_token):
    # This client never sends a heartbeat and never hangs up by itself: only the
    # relay's periodic re-check of its tokens can end its tunnel.
    headers = {"Authorization": f"Bearer {device_token.token}"}
    with connect(relay.tunnel_url, additional_headers=headers, open_timeout=5) as websocket:
        device_id = str(device_token.device.pk)
        wait_for(lambda: relay.connected(device_id))
        services.device_token_revoke(device_token=device_token.device_token)
        closed = threading.Event()

        def read_until_closed():
            try:
                while True:
                    websocket.recv()
            except ConnectionClosed:
                closed.set()

        threading.Thread(target=read_until_closed, daemon=True).start()
        assert closed.wait(timeout=RECHECK_BACKSTOP_SECONDS)  # the re-check runs every 2 s
        wait_for(lambda: not relay.connected(device_id))


def test_a_deactivated_owner_ends_the_tunnel_and_the_next_handshake(relay, agent, device_token):
    owner = device_token.device.owner
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    device_id = str(device_token.device.pk)
    wait_for(lambda: not relay.connected(device_id), timeout=RECHECK_BACKSTOP_SECONDS)
    assert handshake_status(relay, f"Bearer {device_token.token}") == 401


def test_a_database_outage_at_the_handshake_is_503_and_the_agent_keeps_trying(
    relay, device_token, stand_in, monkeypatch, caplog
):
    calls = []

    def down(*, token_hashes):
        calls.append(token_hashes)
        raise OperationalError("the database is down")

    # The handshake's batched check (relay/token_checks.py), and a short Retry-After.
    monkeypatch.setattr(liveness, "device_tokens_usable", down)
    monkeypatch.setattr("relay.tunnel_server.DATABASE_RETRY_AFTER_SECONDS", (1, 1))
    assert handshake_status(relay, f"Bearer {device_token.token}") == 503
    running = InProcessAgent(token=device_token.token, relay=relay, local_url=stand_in.url)
    running.start()
    try:
        wait_for(lambda: len(calls) >= 3)  # it dialled again, and again
        assert running.refused is None and running.thread.is_alive()
        # Said in a line per failed check, never with a traceback.
        said = [
            record
            for record in caplog.records
            if record.name in ("relay.token_checks", "relay.tunnel_server")
            and "the database is down" in record.getMessage()
        ]
        assert said and not any(record.exc_info for record in said)
        monkeypatch.undo()
        wait_for(lambda: relay.connected(str(device_token.device.pk)))
    finally:
        running.stop()


# --- What a device may answer ------------------------------------------------------------


def test_a_request_reaches_the_device_with_the_request_id(relay, agent, device_token):
    answer = relay.request(
        "GET", device_path(device_token, "echo"), headers={"X-Request-Id": "trace-12345678"}
    )
    assert answer.status_code == 200
    seen = {name.lower(): value for name, value in answer.json()["headers"].items()}
    assert seen["x-request-id"] == "trace-12345678"
    assert "x-relay-secret" not in seen


@pytest.mark.parametrize("code", ["999", "600", "199"])
def test_the_agent_refuses_an_impossible_status_of_the_local_api(relay, agent, device_token, code):
    answer = relay.request("GET", device_path(device_token, f"status?code={code}"))
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "device_bad_answer"
    # The tunnel lives on.
    assert relay.request("GET", device_path(device_token, "ok")).status_code == 200


def test_a_real_status_of_the_device_passes(relay, agent, device_token):
    answer = relay.request("GET", device_path(device_token, "status?code=418"))
    assert answer.status_code == 418
    assert "X-Relay-Error" not in answer.headers


# --- Deadlines and callers that go away --------------------------------------------------


def test_a_silent_device_is_504_and_its_stream_is_reset(relay, agent, device_token, stand_in):
    answer = relay.request("GET", device_path(device_token, "silent/quiet"))
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "device_timeout"
    wait_for(lambda: relay.open_streams(str(device_token.device.pk)) == 0)


def test_the_agent_lets_a_silent_device_go_once_the_relay_has(relay, agent, device_token, stand_in):
    # The handshake named this node's quiet deadline (1 s here): the agent waits that and
    # its margin, not LOCAL_READ_TIMEOUT_SECONDS (300 s), holding one of its workers.
    # (The relay registers the tunnel before the agent's thread keeps the connection.)
    wait_for(lambda: agent.client._websocket is not None)
    assert agent.client._websocket.response.headers[IDLE_DEADLINE_HEADER] == "1"
    answer = relay.request("GET", device_path(device_token, "silent/held"))
    assert answer.status_code == 504
    wait_for(lambda: stand_in.gate("held").gone.is_set(), timeout=4 * IDLE_MARGIN_SECONDS)
    assert ("gone", "held") in stand_in.events


def test_a_device_that_stops_mid_answer_is_cut_at_the_idle_deadline(
    relay, agent, device_token, stand_in
):
    with relay.request(
        "GET", device_path(device_token, "slow/stall?bytes=5&length=1"), stream=True
    ) as answer:
        assert answer.status_code == 200
        pieces = answer.iter_content(1)
        stand_in.release("stall")
        assert next(pieces) == b"x"
        # No more bytes come: the relay cuts the body (no final chunk).
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            list(pieces)
    wait_for(lambda: stand_in.gate("stall").gone.is_set())  # the agent let go of it too
    wait_for(lambda: relay.open_streams(str(device_token.device.pk)) == 0)


def test_a_trickle_reaches_the_caller_byte_by_byte(relay, agent, device_token, stand_in):
    with relay.request(
        "GET", device_path(device_token, "slow/trickle?bytes=4&length=1"), stream=True
    ) as answer:
        received = 0
        pieces = answer.iter_content(1)
        for step in range(1, 5):
            stand_in.release("trickle")
            assert next(pieces) == b"x"  # before the device was let send the next one
            received += 1
            assert stand_in.gate("trickle").sent == step
    assert received == 4


def test_a_caller_that_hangs_up_resets_the_stream(relay, agent, device_token, stand_in):
    with socket.create_connection(("127.0.0.1", relay.internal_port)) as caller:
        request = (
            f"GET {device_path(device_token, 'slow/abandoned?bytes=3')} HTTP/1.1\r\n"
            f"Host: relay\r\nX-Relay-Secret: {relay_secret()}\r\n\r\n"
        )
        caller.sendall(request.encode())
        wait_for(lambda: ("head", "abandoned") in stand_in.events)
        wait_for(lambda: relay.open_streams(str(device_token.device.pk)) == 1)
    # The caller is gone while the device sends nothing: the stream is reset, and the
    # agent lets go of the device's answer.
    wait_for(lambda: relay.open_streams(str(device_token.device.pk)) == 0)
    wait_for(lambda: stand_in.gate("abandoned").gone.is_set())


def relay_secret() -> str:
    from django.conf import settings

    return settings.RELAY_INTERNAL_SECRET


# --- An agent that does not play by the rules --------------------------------------------


@pytest.mark.parametrize("status", ["2OO", "999", "099", "", "20"])
def test_an_impossible_status_from_the_agent_is_device_bad_answer(relay, device_token, status):
    raw = RawAgent(token=device_token.token, relay=relay, answer=lambda path: (status, []))
    try:
        wait_for(lambda: relay.connected(str(device_token.device.pk)))
        answer = relay.request("GET", device_path(device_token, "anything"))
        assert answer.status_code == 502
        assert answer.headers["X-Relay-Error"] == "device_bad_answer"
        assert relay.connected(str(device_token.device.pk))  # the tunnel lives on
    finally:
        raw.close()


def test_a_flood_of_control_frames_closes_that_tunnel_and_not_the_others(
    relay, agent, device_token, bob
):
    import h2.errors
    import hyperframe.frame

    issued = services.pairing_code_create(user=bob)
    flooder_token = services.device_pair(code=issued.code, serial="FLOOD-0001", chip="KL720")
    flooder = RawAgent(token=flooder_token.token, relay=relay)
    try:
        wait_for(lambda: relay.connected(str(flooder_token.device.pk)))
        ping = hyperframe.frame.PingFrame(0, opaque_data=b"flooding").serialize()
        settings_frame = hyperframe.frame.SettingsFrame(0).serialize()
        for _ in range(50):
            flooder.send_raw((ping + settings_frame) * 2000)
            if flooder.closed.is_set():
                break
            # Meanwhile the other tunnel answers.
            assert relay.request("GET", device_path(device_token, "ok")).status_code == 200
        assert flooder.closed.wait(timeout=10)
        assert int(h2.errors.ErrorCodes.ENHANCE_YOUR_CALM) in flooder.goaway_codes()
        wait_for(lambda: not relay.connected(str(flooder_token.device.pk)))
        assert relay.request("GET", device_path(device_token, "ok")).status_code == 200
    finally:
        flooder.close()


# --- nginx's grants ------------------------------------------------------------------------


def _grant(device_token, *, method="GET", path="echo", user=None, when=None, monkeypatch=None):
    from devices import relay_grant, relay_slots

    device_id = str(device_token.device.pk)
    owner = user or device_token.device.owner
    slot = relay_slots.slot_acquire(user_id=owner.pk, device_id=device_id)
    grant = relay_grant.Grant(
        device_id=device_id,
        user_id=owner.pk,
        slot_id=slot.id,
        method=method,
        target=device_path(device_token, path),
        language="en",
        request_id="grant-request-1",
        site_headers=[("X-Frame-Options", "DENY"), ("Vary", "Accept-Language, Cookie")],
        error_headers=[("Allow", "GET")],
    )
    if when is not None:
        monkeypatch.setattr("django.core.signing.time.time", lambda: when)
    value = relay_grant.grant_sign(grant)
    if when is not None:
        monkeypatch.undo()
    return grant, value


def test_a_grant_serves_one_answer_once_and_the_relay_frees_its_slot(relay, agent, device_token):
    from devices import relay_slots

    grant, value = _grant(device_token)
    owner = device_token.device.owner
    assert relay_slots.slots_held(user_id=owner.pk) == 1
    answer = relay.request("GET", grant.target, secret=None, headers={"X-Relay-Grant": value})
    assert answer.status_code == 200
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Vary"] == "Accept-Language, Cookie"
    assert answer.headers["Content-Security-Policy"].startswith("sandbox")
    assert "X-Relay-Error" not in answer.headers
    wait_for(lambda: relay_slots.slots_held(user_id=owner.pk) == 0)
    again = relay.request("GET", grant.target, secret=None, headers={"X-Relay-Grant": value})
    assert again.status_code == 401


def test_a_grant_for_something_else_is_refused(relay, agent, device_token, monkeypatch):
    import time as clock

    grant, value = _grant(device_token)
    refused = [
        ("POST", grant.target, value),  # another method
        ("GET", grant.target + "?x=1", value),  # another target
        ("GET", device_path(device_token, "ok"), value),
        ("GET", grant.target, value[:-3] + "abc"),  # not ours
        (
            "GET",
            grant.target,
            _grant(device_token, when=clock.time() - 60, monkeypatch=monkeypatch)[1],
        ),
    ]
    for method, target, forged in refused:
        answer = relay.request(method, target, secret=None, headers={"X-Relay-Grant": forged})
        assert answer.status_code == 401, (method, target)
        assert answer.content == b""


def test_the_relays_errors_for_nginx_are_the_users_envelope(relay, agent, device_token, settings):
    grant, value = _grant(device_token, path="silent/for-nginx")
    answer = relay.request("GET", grant.target, secret=None, headers={"X-Relay-Grant": value})
    assert answer.status_code == 504
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Allow"] == "GET"
    assert "X-Relay-Error" not in answer.headers
    assert answer.json() == {
        "error": {
            "code": "device_timeout",
            "message": "The device took too long to answer.",
            "details": {},
            "request_id": "grant-request-1",
        }
    }
