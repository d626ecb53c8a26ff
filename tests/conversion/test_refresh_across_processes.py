"""Single-flight refreshes, the shared budget and its priority, across processes (Redis)."""

from __future__ import annotations

import math

import pytest

from tests.conversion.crossprocess import run_in_processes

pytestmark = pytest.mark.redis

JOB = "5f1c7a52-8a0e-4c1e-9a55-3a3f9b1b1b1b"


def test_one_refresh_claim_per_job_per_interval_across_processes():
    # Four processes claim the same job as fast as they can for 2.5 s; the interval
    # is 1 s (0.9 s at the base, for pollers' jitter): three claims at most, in all.
    results = run_in_processes(
        f"""
        from conversion import refresh_policy
        claims = 0
        calls = 0
        started = time.time()
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            calls += 1
            claims += refresh_policy.claim({JOB!r}).claimed
            time.sleep(0.005)
        [claims, calls, started, time.time()]
        """,
        processes=4,
        overrides={"CONVERSION_REFRESH_SECONDS": 1},
    )
    claims = sum(result[0] for result in results)
    calls = sum(result[1] for result in results)
    # However late a loaded machine ran them: one claim per 0.9 s interval at most over
    # the span they really covered, and at least the first one.
    span = max(result[3] for result in results) - min(result[2] for result in results)
    assert calls > 4 * 2  # they really raced
    assert 1 <= claims <= math.floor(span / 0.9) + 1


def test_the_budget_is_shared_and_background_calls_leave_the_reserve_to_users():
    # Limit 22: 20 usable (2 kept for clock skew), 16 for background (20 % reserved).
    overrides = {"CONVERTER_RATE_LIMIT": 22, "CONVERTER_BUDGET_RESERVE_PERCENT": 20}
    background = run_in_processes(
        """
        from conversion.clients import budget
        sum(budget.take(budget.BACKGROUND) for _ in range(10))
        """,
        processes=4,
        overrides=overrides,
    )
    assert sum(background) == 16
    users = run_in_processes(
        """
        from conversion.clients import budget
        sum(budget.take(budget.USER) for _ in range(3))
        """,
        processes=3,
        overrides=overrides,
    )
    assert sum(users) == 4  # the reserve, and not one more


def test_the_converters_remaining_count_is_believed_by_every_process(settings):
    from conversion.clients import budget

    settings.CONVERTER_RATE_LIMIT = 300
    # The converter says 290 of its 300 are used (another process, a restart).
    budget.observe(200, {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "10"})
    results = run_in_processes(
        """
        from conversion.clients import budget
        sum(budget.take(budget.USER) for _ in range(10))
        """,
        processes=2,
    )
    assert sum(results) == 8  # 298 usable - 290 used
