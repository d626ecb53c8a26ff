"""Relayed answers through nginx (the shipped configuration on the loopback stack).

Through nginx the app only authorizes; the relay node answers nginx itself
(``X-Accel-Redirect`` to ``@visiona_relay`` with a grant). Straight to gunicorn (no
nginx: no ``X-Visiona-Offload``) the same app streams the answer as ``make run`` does.
Both must give the user the same status, body and headers; the caps are shared by
every web instance (the stack's gunicorn, this process's live server) and by the relay
that holds the slots of offloaded exchanges.
"""

from __future__ import annotations

import socket
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.utils import translation

from deploy.processes import free_port
from devices import errors, relay_slots, services, tunnel_registry
from tests.loopback import StackFactory, signed_in_session
from tests.relay.harness import InProcessAgent, RawAgent, StandInDevice, wait_for

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CAP_PER_USER = 24
STACK_ENV = {
    # A silent device's 504 comes soon; a device that started its answer may pause long.
    "RELAY_REQUEST_TIMEOUT_SECONDS": "3",
    "RELAY_IDLE_TIMEOUT_SECONDS": "120",
    "RELAY_MAX_EXCHANGES_PER_USER": str(CAP_PER_USER),
    "RELAY_MAX_EXCHANGES_PER_DEVICE": str(CAP_PER_USER),
    "LOG_LEVEL": "INFO",
}
# What differs by transport, not by path: who wrote the message and how it was framed.
TRANSPORT = {"date", "server", "connection", "keep-alive", "transfer-encoding", "content-length"}


@pytest.fixture(scope="module")
def stack(django_db_setup, _stack_static_root, tmp_path_factory):
    factory = StackFactory(_stack_static_root, tmp_path_factory.mktemp("relay-stacks"))
    try:
        # This process's secrets: its sessions and its live server are the stack's too.
        yield factory.start(
            env={
                **STACK_ENV,
                "RELAY_INTERNAL_SECRET": settings.RELAY_INTERNAL_SECRET,
                "SECRET_KEY": settings.SECRET_KEY,
            }
        )
    finally:
        factory.stop_all()


@pytest.fixture
def caps(settings):
    # This process (the live server) counts against the same caps as the stack.
    settings.RELAY_MAX_EXCHANGES_PER_USER = CAP_PER_USER
    settings.RELAY_MAX_EXCHANGES_PER_DEVICE = CAP_PER_USER


@pytest.fixture
def stand_in():
    device = StandInDevice()
    yield device
    device.stop()


@pytest.fixture
def paired(alice):
    issued = services.pairing_code_create(user=alice)
    return services.device_pair(code=issued.code, serial="NGINX-0001", chip="KL720")


@pytest.fixture
def agent(stack, paired, stand_in):
    running = InProcessAgent(
        token=paired.token,
        relay=types.SimpleNamespace(tunnel_url=stack.tunnel_url),
        local_url=stand_in.url,
    ).start()
    wait_for(lambda: _reaches(stack, paired), timeout=30)
    yield running
    running.stop()


def _reaches(stack, paired) -> bool:
    from devices import tunnel_registry

    return tunnel_registry.lookup(str(paired.device.pk)) is not None


class Browser:
    """alice's signed-in session, through nginx or straight to gunicorn."""

    def __init__(self, stack, user) -> None:
        self.stack = stack
        self.cookies = {settings.SESSION_COOKIE_NAME: signed_in_session(user)}

    def get(self, path: str, *, direct: bool = False, **kwargs) -> requests.Response:
        url = self.stack.direct_url(path) if direct else self.stack.url(path)
        kwargs.setdefault("timeout", 30)
        return requests.get(url, cookies=self.cookies, **kwargs)

    def both_paths(self, path: str, *, language: str) -> list[requests.Response]:
        """``path`` asked in ``language`` through nginx, then straight to gunicorn."""
        headers = {"Accept-Language": language}
        return [self.get(path, direct=direct, headers=headers) for direct in (False, True)]


def agent_path(paired, path: str) -> str:
    return f"/api/devices/{paired.device.pk}/agent/{path}"


def headers_of(response: requests.Response) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in TRANSPORT and name.lower() != "x-request-id"
    }


def test_the_answer_through_nginx_is_the_answer_django_streams(stack, agent, paired, alice):
    browser = Browser(stack, alice)
    offloaded = browser.get(agent_path(paired, "ok"), headers={"X-Request-Id": "nginx-path-1"})
    streamed = browser.get(
        agent_path(paired, "ok"), direct=True, headers={"X-Request-Id": "direct-path-1"}
    )
    assert offloaded.status_code == streamed.status_code == 200
    assert offloaded.content == streamed.content == b'{"ok": true}'
    assert headers_of(offloaded) == headers_of(streamed)
    assert offloaded.headers["X-Request-Id"] == "nginx-path-1"
    assert offloaded.headers["Content-Security-Policy"].startswith("sandbox")
    assert offloaded.headers["Vary"] == "Origin, Accept-Language, Cookie"
    # nginx took it from the relay node, not from a web worker.
    relay_log = next(p for p in stack.processes if p.name.startswith("relay")).log.read_text()
    assert "relayed for nginx" in relay_log and "nginx-path-1" in relay_log
    assert "direct-path-1" not in relay_log.split("relayed for nginx", 1)[-1].split("\n")[0]


def test_a_redirect_and_the_devices_headers_obey_the_same_rules(stack, agent, paired, alice):
    browser = Browser(stack, alice)
    for location, expected in [
        ("/elsewhere?x=1", f"/api/devices/{paired.device.pk}/agent/elsewhere?x=1"),
        ("../../../../tokens/", f"/api/devices/{paired.device.pk}/agent/tokens/"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
    ]:
        path = agent_path(paired, f"headers?location={requests.utils.quote(location)}")
        answers = [
            browser.get(path, direct=direct, allow_redirects=False) for direct in (False, True)
        ]
        for answer in answers:
            assert answer.status_code == 302
            assert answer.headers.get("Location") == expected
            assert "from-the-device" not in str(answer.headers)
            assert answer.headers["X-Fine"] == "yes"
        assert headers_of(answers[0]) == headers_of(answers[1])


def test_a_silent_device_is_the_same_504_envelope_on_both_paths(stack, agent, paired, alice):
    browser = Browser(stack, alice)
    answers = [
        browser.get(agent_path(paired, f"silent/both-{direct}"), direct=direct)
        for direct in (False, True)
    ]
    for answer in answers:
        assert answer.status_code == 504
        error = answer.json()["error"]
        assert error["code"] == "device_timeout"
        assert error["request_id"] == answer.headers["X-Request-Id"]
    first, second = (answer.json()["error"] for answer in answers)
    assert {**first, "request_id": ""} == {**second, "request_id": ""}
    assert headers_of(answers[0]) == headers_of(answers[1])


def test_the_relays_own_envelope_is_in_the_users_language(stack, paired, alice):
    raw = RawAgent(
        token=paired.token,
        relay=types.SimpleNamespace(tunnel_url=stack.tunnel_url),
        answer=lambda path: ("2OO", []),
    )
    try:
        wait_for(lambda: _reaches(stack, paired), timeout=30)
        browser = Browser(stack, alice)
        answers = browser.both_paths(agent_path(paired, "x"), language="zh-hant")
    finally:
        raw.close()
    for answer in answers:
        assert answer.status_code == 502
        assert answer.json()["error"]["code"] == "device_bad_answer"
        assert answer.headers["Content-Language"] == "zh-hant"
    assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    assert (
        answers[0].json()["error"]["message"] != "The device sent an answer that is not valid HTTP."
    )
    assert headers_of(answers[0]) == headers_of(answers[1])


def test_a_node_gone_since_the_lookup_is_device_unreachable_on_both_paths(stack, paired, alice):
    # The registry names a node that no longer answers: stopped or cut off after the app
    # looked the device up, before its lease ran out.
    lease = tunnel_registry.NodeLease.new(f"http://127.0.0.1:{free_port()}")
    tunnel_registry.lease_acquire(lease)
    tunnel_registry.register_many(lease=lease, connections=[(str(paired.device.pk), "gone")])
    try:
        browser = Browser(stack, alice)
        answers = browser.both_paths(agent_path(paired, "x"), language="zh-hant")
    finally:
        tunnel_registry.lease_release(lease)
    for answer in answers:
        assert answer.status_code == 502
        assert answer.headers["Content-Type"].startswith("application/json")
        error = answer.json()["error"]
        assert error["code"] == "device_unreachable"
        assert error["request_id"] == answer.headers["X-Request-Id"]
    # nginx's file and the app's answer say the same, in the user's language.
    messages = [answer.json()["error"]["message"] for answer in answers]
    assert messages[0] == messages[1]
    with translation.override("en"):
        assert messages[0] != str(errors.DeviceUnreachable.message)


def test_the_internal_location_answers_nothing_from_outside(stack, agent, paired, alice):
    browser = Browser(stack, alice)
    for path in ("/@visiona_relay", "/%40visiona_relay", "/_internal/relay/"):
        answer = browser.get(path)
        assert answer.status_code == 404
        assert "relay" not in answer.headers.get("Server", "")
    # Headers a client sends under the app's handoff names change nothing.
    forged = browser.get(
        agent_path(paired, "echo"),
        headers={"X-Relay-Grant": "forged", "X-Relay-Node": "127.0.0.1:1", "X-Relay-Secret": "x"},
    )
    assert forged.status_code == 200
    seen = {name.lower() for name in forged.json()["headers"]}
    assert not {"x-relay-grant", "x-relay-node", "x-relay-secret", "cookie"} & seen


def test_a_trickle_reaches_the_user_through_nginx_as_it_comes(
    stack, agent, paired, alice, stand_in
):
    browser = Browser(stack, alice)
    with browser.get(agent_path(paired, "slow/drip?bytes=4&length=1"), stream=True) as answer:
        assert answer.status_code == 200
        pieces = answer.iter_content(1)
        for step in range(1, 5):
            stand_in.release("drip")
            assert next(pieces) == b"x"
            assert stand_in.gate("drip").sent == step  # the next byte is not sent yet


def test_a_user_who_hangs_up_frees_the_slot_and_resets_the_stream(
    stack, agent, paired, alice, stand_in
):
    cookie = f"{settings.SESSION_COOKIE_NAME}={signed_in_session(alice)}"
    with socket.create_connection(("127.0.0.1", stack.nginx_port)) as user:
        user.sendall(
            f"GET {agent_path(paired, 'slow/left?bytes=5')} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        wait_for(lambda: ("head", "left") in stand_in.events)
        assert relay_slots.slots_held(user_id=alice.pk) == 1
    wait_for(lambda: stand_in.gate("left").gone.is_set())
    wait_for(lambda: relay_slots.slots_held(user_id=alice.pk) == 0)


def test_the_caps_hold_across_web_instances_and_the_relay(
    stack, agent, paired, alice, stand_in, live_server, caps
):
    browser = Browser(stack, alice)
    opened = []
    with ThreadPoolExecutor(CAP_PER_USER) as pool:
        for index in range(CAP_PER_USER):
            opened.append(
                pool.submit(browser.get, agent_path(paired, f"slow/held-{index}?bytes=1&length=1"))
            )
        wait_for(lambda: relay_slots.slots_held(user_id=alice.pk) == CAP_PER_USER, timeout=30)
        # One more, through nginx or through another web instance: refused at once.
        refused = [
            browser.get(agent_path(paired, "ok")),
            requests.get(
                live_server.url + agent_path(paired, "ok"), cookies=browser.cookies, timeout=30
            ),
        ]
        for answer in refused:
            assert answer.status_code == 429
            assert answer.json()["error"]["code"] == "too_many_device_requests"
            assert answer.json()["error"]["details"] == {"cap": "user", "limit": CAP_PER_USER}
            assert answer.headers["Retry-After"] == "1"
        stand_in.release("held-0")
        assert opened[0].result().content == b"x"
        wait_for(lambda: relay_slots.slots_held(user_id=alice.pk) == CAP_PER_USER - 1)
        assert browser.get(agent_path(paired, "ok")).status_code == 200
        for index in range(1, CAP_PER_USER):
            stand_in.release(f"held-{index}")
        assert all(future.result().status_code == 200 for future in opened)
    wait_for(lambda: relay_slots.slots_held(user_id=alice.pk) == 0)


def test_one_users_slow_streams_leave_everyone_else_fast(
    stack, agent, paired, alice, bob, stand_in
):
    """More slow streams than gunicorn has threads: through nginx they hold none."""
    slow = Browser(stack, alice)
    other = Browser(stack, bob)
    count = 20  # > 2 workers x 8 threads
    events: list[str] = []
    lock = threading.Lock()

    def stream(index: int) -> bytes:
        answer = slow.get(agent_path(paired, f"slow/hold-{index}?bytes=1&length=1"), timeout=120)
        with lock:
            events.append(f"slow {index} done")
        return answer.content

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(stream, index) for index in range(count)]
        wait_for(lambda: sum(1 for e in stand_in.events if e[0] == "head") == count, timeout=30)
        for _ in range(5):
            assert other.get("/api/devices/").status_code == 200
            assert other.get("/healthz").status_code == 200
            with lock:
                events.append("other answered")
        assert sum(1 for e in stand_in.events if e[0] == "gone") == 0
        for index in range(count):
            stand_in.release(f"hold-{index}")
        assert [future.result() for future in futures] == [b"x"] * count
    # Every other user's call came back while all the slow streams were still open.
    assert events[:5] == ["other answered"] * 5
