"""A relay node's faults, read in its log: nothing worse than a warning, no traceback.

Stopped as an orchestrator stops it (SIGTERM) while agents are connected and answers are
in flight, it closes every tunnel and exits 0. While PostgreSQL refuses connections it
answers every agent's handshake 503 with ``Retry-After`` (the agent dials again later),
and says why in a line, not a traceback per handshake."""

from __future__ import annotations

import threading

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from devices import services
from tests.relay.conftest import Relay, agent_log, free_port
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024
# Long enough that a device's slow answer is still awaited when the node is stopped.
SLOW_ANSWER_SECONDS = 20


@pytest.fixture
def relay(settings):
    node = Relay(env={"RELAY_REQUEST_TIMEOUT_SECONDS": str(SLOW_ANSWER_SECONDS * 3)}).start()
    settings.RELAY_PUBLIC_URL = node.tunnel_url
    yield node
    print("relay output:\n" + node.stop())  # shown when the test fails


def quiet(output: str) -> None:
    """No traceback and no line above WARNING in a relay's log."""
    assert "Traceback" not in output, output
    loud = [line for line in output.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert loud == [], output


def test_a_relay_stopped_with_answers_in_flight_logs_no_error(relay, connected_agent, agents):
    second = agents.run(agents.pair(serial="STOP-0002"))
    wait_for(lambda: len(relay.sessions()) == 2, timeout=30)
    device = f"/devices/{connected_agent.device_id}"
    # One answer mid-body (its reader took a chunk and stopped reading) and one whose
    # head the device has not sent yet.
    streaming = relay.get(f"{device}/api/demo/blob?bytes={64 * MIB}", stream=True)
    assert streaming.status_code == 200
    # Kept: a generator dropped half way closes its connection (the relay resets the stream).
    chunks = streaming.iter_content(64 * 1024)
    next(chunks)
    waiting: dict[str, object] = {}

    def ask_slowly() -> None:
        try:
            waiting["answer"] = relay.get(
                f"{device}/api/demo/blob?bytes=1&delay={SLOW_ANSWER_SECONDS}"
            ).status_code
        except requests.RequestException as exc:
            waiting["answer"] = exc

    asker = threading.Thread(target=ask_slowly)
    asker.start()
    # In flight: the device has the request (its log names it) and has not answered.
    wait_for(lambda: f"delay={SLOW_ANSWER_SECONDS}" in agent_log(connected_agent.process))
    process = relay.process
    try:
        output = relay.stop()  # SIGTERM, and its whole log
    finally:
        chunks.close()
        streaming.close()
        asker.join(timeout=30)
    assert "closing 2 tunnels" in output
    assert "relay node stopped" in output
    assert process.returncode == 0
    quiet(output)
    assert "answer" in waiting and waiting["answer"] != 200  # cut short, not answered
    # The agents were told to go, not killed: they are still running, dialling again.
    assert connected_agent.process.poll() is None and second.poll() is None


@pytest.fixture
def relay_without_database():
    # A port nothing listens on: PostgreSQL refuses every connection. Redis is up, so the
    # node takes its lease and opens the tunnel port.
    gone = f"postgres://postgres@127.0.0.1:{free_port()}/gone"
    node = Relay(env={"DATABASE_URL": gone}).start()
    yield node
    print("relay output:\n" + node.stop())  # shown when the test fails


def handshake(relay: Relay, token: str) -> tuple[int, str | None]:
    """The handshake's status and its Retry-After."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with connect(relay.tunnel_url, additional_headers=headers, open_timeout=10):
            return 101, None
    except InvalidStatus as refused:
        return refused.response.status_code, refused.response.headers.get("Retry-After")


def test_while_the_database_refuses_connections_handshakes_are_503(relay_without_database, alice):
    issued = services.pairing_code_create(user=alice)
    paired = services.device_pair(code=issued.code, serial="NODB-0001", chip="KL720")
    for _ in range(3):  # each asks the database again: nothing is remembered of a failure
        status, retry_after = handshake(relay_without_database, paired.token)
        assert status == 503
        assert int(retry_after or 0) > 0
    assert relay_without_database.get("/readyz", secret=None).status_code == 503
    output = relay_without_database.stop()
    # Said, in a line each (the driver's reason), not as a traceback.
    assert "token check failed: database unavailable (OperationalError" in output
    assert "tunnel handshake deferred" in output
    quiet(output)
