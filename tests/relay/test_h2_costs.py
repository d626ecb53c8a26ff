"""What receiving a DATA frame costs the tunnel's two ends beyond the bytes themselves.

h2 formats every received frame for a trace log line, logged or not; hyperframe's repr
of a DATA frame hex-encoded its whole payload (a third of the relay's CPU time on a
large answer). Both ends make that repr look at a few bytes only. Each module is
checked in a fresh interpreter of its own, since the fix applies to the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.relay.conftest import ROOT

CHECK = textwrap.dedent(
    """
    import binascii, importlib, sys
    import h2.config, h2.connection, h2.events

    importlib.import_module(sys.argv[1])
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    client.initiate_connection()
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    headers = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "d")]
    client.send_headers(1, headers)
    for _ in range(4):  # four frames of the default largest size
        client.send_data(1, b"x" * 15000)
    client.end_stream(1)
    wire = client.data_to_send()

    hexed = []
    hexlify = binascii.hexlify
    binascii.hexlify = lambda data, *args: hexed.append(len(data)) or hexlify(data, *args)
    events = server.receive_data(wire)
    received = sum(len(e.data) for e in events if isinstance(e, h2.events.DataReceived))
    print(received, sum(hexed))
    """
)


@pytest.mark.parametrize("module", ["relay.h2_session", "visiona_client.tunnel"])
def test_receiving_data_does_not_encode_the_payload(module):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "client")])}
    result = subprocess.run(
        [sys.executable, "-c", CHECK, module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    received, hexed = map(int, result.stdout.split())
    assert received == 60000
    assert hexed < 100  # header-sized, not the 60,000 bytes received
