"""single_flight: one computation across callers, failures not cached."""

import threading
import time

import pytest
from django.core.cache import cache

from tests.waiting import wait_for
from visiona.single_flight import SingleFlightTimeout, single_flight


def test_it_caches_the_value():
    calls = []
    assert single_flight("k", lambda: calls.append(1) or "v", ttl=10) == "v"
    assert single_flight("k", lambda: calls.append(1) or "w", ttl=10) == "v"
    assert calls == [1]


def test_it_caches_an_empty_answer_too():
    calls = []
    single_flight("k", lambda: calls.append(1) or "", ttl=10)
    single_flight("k", lambda: calls.append(1) or "x", ttl=10)
    assert calls == [1]


def test_a_failure_is_not_cached_and_releases_the_lock():
    def boom():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        single_flight("k", boom, ttl=10)
    assert cache.get("k:lock") is None
    assert single_flight("k", lambda: "later", ttl=10) == "later"


def test_a_waiter_gives_up_after_its_wait():
    cache.add("k:lock", "someone-else", 30)
    with pytest.raises(SingleFlightTimeout):
        single_flight("k", lambda: "v", ttl=10, wait=0.05, sleep=lambda s: time.sleep(0.01))


def concurrent_callers(count: int, key: str) -> tuple[list, list]:
    calls, results, waiting = [], [], set()
    start = threading.Barrier(count)

    def compute():
        calls.append(1)
        # Answers only once every other caller waits for it: they all piled up.
        wait_for(
            lambda: len(waiting) == count - 1,
            timeout=30,
            interval=0.01,
            what="the other callers to wait",
        )
        return "shared"

    def poll_sleep(seconds: float) -> None:
        waiting.add(threading.get_ident())
        time.sleep(seconds)

    def caller():
        start.wait()
        results.append(single_flight(key, compute, ttl=10, sleep=poll_sleep))

    threads = [threading.Thread(target=caller) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return calls, results


def test_concurrent_callers_share_one_computation():
    calls, results = concurrent_callers(30, "shared-key")
    assert len(calls) == 1
    assert results == ["shared"] * 30


@pytest.mark.redis
def test_concurrent_callers_share_one_computation_on_redis(settings):
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    calls, results = concurrent_callers(30, "shared-key-redis")
    assert len(calls) == 1
    assert results == ["shared"] * 30
