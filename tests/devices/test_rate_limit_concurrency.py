"""Parallel wrong guesses cannot overshoot the limit: admission is one atomic count."""

import threading
import time

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
    # "redis": the suite's own cache, Redis whenever REDIS_URL is set.
    settings.DEVICE_PAIRING_RATE_LIMIT = LIMIT
    settings.DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS = 3600
    from django.core.cache import cache

    cache.clear()
    return request.param


@pytest.fixture
def evaluations(monkeypatch):
    """Counts the codes really looked up; every one of them is wrong."""
    seen: list[str] = []
    lock = threading.Lock()

    def wrong_code(*, code, **_fields):
        with lock:
            seen.append(code)
        time.sleep(0.05)  # long enough for every other guesser to arrive meanwhile
        raise PairingCodeInvalid()

    monkeypatch.setattr(services, "_pair_exchange", wrong_code)
    return seen


def _guess(index: int) -> str:
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
        return "limited"
    return "paired"


def test_parallel_guesses_evaluate_at_most_the_limit(cache_backend, evaluations):
    barrier = threading.Barrier(GUESSERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(index: int) -> None:
        barrier.wait()
        outcome = _guess(index)
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
