"""A store that does not answer is an outage, not a bug: the relay node's periodic jobs
say so in one line and carry on; any other failure keeps its traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from relay.auth import outage_reason
from relay.node import RelayNode


def run_job_rounds(failures: list[Exception]) -> None:
    """The node's loop around a job that fails with each of ``failures`` in turn."""
    node = RelayNode(node_url="http://127.0.0.1:3801")
    rounds = iter(failures)

    async def job() -> None:
        failure = next(rounds, None)
        if failure is None:
            raise asyncio.CancelledError  # every failure seen: the loop ends here
        raise failure

    async def loop() -> None:
        with pytest.raises(asyncio.CancelledError):
            await node._every(0, job)

    asyncio.run(loop())


def test_a_database_or_registry_outage_is_one_line_and_the_loop_goes_on(caplog):
    down = OperationalError('connection to server at "10.0.0.5" failed: refused\nIs it up?')
    with caplog.at_level(logging.WARNING, logger="relay.node"):
        run_job_rounds([down, RedisConnectionError("Error 111 connecting")])
    lines = [record for record in caplog.records if record.name == "relay.node"]
    assert [record.levelno for record in lines] == [logging.WARNING] * 2
    assert not any(record.exc_info for record in lines)
    assert "OperationalError: connection to server" in lines[0].getMessage()
    assert "Is it up?" not in lines[0].getMessage()  # its first line only
    assert "ConnectionError: Error 111" in lines[1].getMessage()


def test_any_other_failure_keeps_its_traceback(caplog):
    with caplog.at_level(logging.WARNING, logger="relay.node"):
        run_job_rounds([ValueError("a bug")])
    (line,) = [record for record in caplog.records if record.name == "relay.node"]
    assert line.levelno == logging.ERROR
    assert line.exc_info is not None


def test_a_reason_without_a_message_is_the_errors_kind():
    assert outage_reason(OperationalError()) == "OperationalError"
