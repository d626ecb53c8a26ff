"""Parallel wrong guesses cannot overshoot the limit: admission is one atomic count."""

import threading

import pytest

from devices import services
from devices.errors import PairingCodeInvalid
from visiona.errors import RateLimited

LIMIT = 10
GUESSERS = 60


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def cache_backend(request, settings):
    if request.param == "locmem":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "rate-limit-concurrency",
            }
        }
        from django.core.cache import cache

        cache.clear()  # this test's own local-memory cache, nobody else's
    # "redis": the suite's own cache, Redis whenever REDIS_URL is set, which the suite
    # empties of its own keys (its prefix) around every test: never clear() it.
    settings.DEVICE_PAIRING_RATE_LIMIT = LIMIT
    settings.DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS = 3600
    return request.param


class Arrivals:
    """Who got past admission and who was refused: an evaluation waits until every
    guesser has done one or the other, so all of them are in flight at once (a
    check-then-count limiter would let them all through), without a fixed sleep."""

    def __init__(self) -> None:
        self.evaluated: list[str] = []
        self.refused = 0
        self.changed = threading.Condition()

    def arrive(self, code: str | None) -> None:
        with self.changed:
            if code is None:
                self.refused += 1
            else:
                self.evaluated.append(code)
            self.changed.notify_all()

    def wait_for_everyone(self) -> None:
        with self.changed:
            # Generous: under load the last thread may start late; a timeout only
            # narrows the overlap, it cannot make the test pass wrongly.
            self.changed.wait_for(
                lambda: len(self.evaluated) + self.refused >= GUESSERS, timeout=30
            )


@pytest.fixture
def arrivals(monkeypatch) -> Arrivals:
    """Counts the codes really looked up; every one of them is wrong."""
    state = Arrivals()

    def wrong_code(*, code, **_fields):
        state.arrive(code)
        state.wait_for_everyone()
        raise PairingCodeInvalid()

    monkeypatch.setattr(services, "_pair_exchange", wrong_code)
    return state


def _guess(index: int, arrivals: Arrivals | None = None) -> str:
    try:
        services.device_pair(
            code=f"ZZZZ-{'ABCDEFGHJK'[index % 10]}AAA",
            serial="SN-1",
            chip="KL520",
            client_address="198.51.100.1",
        )
    except PairingCodeInvalid:
        return "evaluated"
    except RateLimited:
        if arrivals is not None:
            arrivals.arrive(None)
        return "limited"
    return "paired"


def test_parallel_guesses_evaluate_at_most_the_limit(cache_backend, arrivals):
    evaluations = arrivals.evaluated
    barrier = threading.Barrier(GUESSERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(index: int) -> None:
        barrier.wait()
        outcome = _guess(index, arrivals)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == GUESSERS
    assert 1 <= len(evaluations) <= LIMIT
    assert outcomes.count("evaluated") == len(evaluations)
    # Refused attempts gave their slots back: exactly LIMIT guesses are ever evaluated.
    while _guess(0) == "evaluated":
        pass
    assert len(evaluations) == LIMIT
