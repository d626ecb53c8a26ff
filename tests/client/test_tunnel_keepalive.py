"""How often the agent pings its tunnel, and how long it waits on its local API: what
the relay's handshake names."""

from __future__ import annotations

import pytest
from visiona_client.local_answers import LOCAL_READ_TIMEOUT_SECONDS
from visiona_client.tunnel import (
    DEFAULT_PING_SECONDS,
    IDLE_DEADLINE_HEADER,
    PING_INTERVAL_HEADER,
    local_read_timeout,
    ping_interval,
)


@pytest.mark.parametrize(
    ("named", "seconds"),
    [("30", 30.0), ("7", 7.0), ("12.5", 12.5), ("60", 60.0)],
)
def test_the_agent_pings_as_often_as_the_relay_says(named, seconds):
    assert ping_interval({PING_INTERVAL_HEADER: named}) == seconds


def test_a_relay_that_names_nothing_gets_the_interval_it_predates():
    # Relays older than the hint close a tunnel silent for 25 s: 15 s keeps it open.
    assert ping_interval({}) == DEFAULT_PING_SECONDS == 15.0


@pytest.mark.parametrize("garbage", ["", "soon", "nan", "inf-ish", "1e", "-"])
def test_garbage_gets_the_default(garbage):
    assert ping_interval({PING_INTERVAL_HEADER: garbage}) == DEFAULT_PING_SECONDS


@pytest.mark.parametrize(
    ("named", "seconds"),
    [("0", 5.0), ("-30", 5.0), ("1", 5.0), ("120", 60.0), ("3600", 60.0), ("inf", 60.0)],
)
def test_the_interval_is_kept_within_bounds(named, seconds):
    # A relay cannot make an agent ping in a tight loop, nor never.
    assert ping_interval({PING_INTERVAL_HEADER: named}) == seconds


# How long the agent waits on its local API: the relay's quiet deadline and a margin.


@pytest.mark.parametrize(
    ("named", "seconds"),
    [("30", 35.0), ("1", 6.0), ("2.5", 7.5), ("295", 300.0), ("3600", 300.0), ("inf", 300.0)],
)
def test_the_agent_waits_on_its_local_api_as_long_as_the_relay_would(named, seconds):
    assert local_read_timeout({IDLE_DEADLINE_HEADER: named}) == seconds


@pytest.mark.parametrize("named", [None, "", "soon", "nan", "0", "-30"])
def test_without_a_usable_deadline_the_agent_waits_as_it_always_did(named):
    headers = {} if named is None else {IDLE_DEADLINE_HEADER: named}
    assert local_read_timeout(headers) == LOCAL_READ_TIMEOUT_SECONDS == 300.0
