"""The handshake's token checks: batched, cached briefly, forgotten on revocation.

The database is a stand-in here (counted); test_node_liveness.py and the live tests
use the real one.
"""

from __future__ import annotations

import asyncio

import pytest

from devices import credentials, liveness
from relay import token_checks
from relay.token_checks import TokenChecker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(monkeypatch):
    """A stand-in for the one query: which token hashes are usable, and their devices."""
    state = {"usable": {}, "queries": [], "down": False}

    def usable(*, token_hashes):
        state["queries"].append(sorted(token_hashes))
        if state["down"]:
            raise ConnectionError("database down")
        return {h: state["usable"][h] for h in token_hashes if h in state["usable"]}

    monkeypatch.setattr(liveness, "device_tokens_usable", usable)
    return state


def token(database, device_id: str, *, usable: bool = True) -> str:
    plain = credentials.device_token_generate()
    if usable:
        database["usable"][credentials.device_token_hash(plain)] = device_id
    return plain


async def identify_all(checker: TokenChecker, tokens: list[str]):
    return await asyncio.gather(*(checker.identify(t) for t in tokens))


def with_checker(scenario, *, clock=None):
    """Run ``scenario(checker)`` in one event loop, the checker's batches running."""

    async def run():
        checker = TokenChecker(clock=clock) if clock else TokenChecker()
        checker.start()
        try:
            return await scenario(checker)
        finally:
            checker.stop()

    return asyncio.run(run())


def test_a_storm_of_handshakes_is_a_few_queries(database, monkeypatch):
    monkeypatch.setattr(token_checks, "BATCH", 100)
    tokens = [token(database, f"device-{i}") for i in range(250)]
    refused = token(database, "nobody", usable=False)
    answers = with_checker(lambda c: identify_all(c, [*tokens, refused, "not-a-token"]))
    assert [a.device_id for a in answers[:250]] == [f"device-{i}" for i in range(250)]
    assert answers[250] is None and answers[251] is None  # unknown; malformed (not asked)
    assert [len(q) for q in database["queries"]] == [100, 100, 51]


def test_answers_are_cached_until_forgotten(database):
    plain = token(database, "device-1")
    token_hash = credentials.device_token_hash(plain)

    async def scenario(checker):
        await identify_all(checker, [plain])
        await identify_all(checker, [plain])
        assert len(database["queries"]) == 1
        assert checker.cached_usable() == {token_hash}
        # The node's re-check found it revoked: the next handshake asks the database.
        del database["usable"][token_hash]
        checker.forget({token_hash})
        return await identify_all(checker, [plain])

    assert with_checker(scenario) == [None]
    assert len(database["queries"]) == 2


def test_kept_answers_expire(database):
    clock = Clock()
    plain = token(database, "device-1")

    async def scenario(checker):
        await identify_all(checker, [plain])
        clock.now += token_checks.CACHE_SECONDS + 1
        assert checker.cached_usable() == set()
        await identify_all(checker, [plain])

    with_checker(scenario, clock=clock)
    assert len(database["queries"]) == 2


def test_a_database_that_cannot_answer_is_an_error_not_a_refusal(database):
    database["down"] = True
    plain = token(database, "device-1")
    with pytest.raises(ConnectionError):
        with_checker(lambda c: identify_all(c, [plain]))
