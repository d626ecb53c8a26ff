"""Member Center client: service-token cache and delegated download tokens."""

from __future__ import annotations

import functools
import json
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import responses
from responses import matchers

from conversion.clients import errors, member_center
from tests.conversion.upstreams import MC
from tests.waiting import wait_for
from visiona.single_flight import single_flight

TOKEN_URL = f"{MC}/oauth/token"
DOWNLOAD_URL = f"{MC}/file-access/download-tokens"


@pytest.fixture
def mc(upstream_settings):
    with responses.RequestsMock() as mock:
        yield mock


def token_answer(token="svc-1", expires_in=3600):
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


def test_it_asks_with_basic_auth_and_the_scope(mc):
    mc.post(
        TOKEN_URL,
        json=token_answer(),
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "client_credentials", "scope": "converter:job.read"}
            ),
            # visiona:service-secret
            matchers.header_matcher({"Authorization": "Basic dmlzaW9uYTpzZXJ2aWNlLXNlY3JldA=="}),
        ],
    )
    assert member_center.service_token("converter:job.read") == "svc-1"


def test_tokens_are_cached_per_scope(mc):
    read = mc.post(
        TOKEN_URL,
        json=token_answer("read-token"),
        match=[
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials", "scope": "a"})
        ],
    )
    write = mc.post(
        TOKEN_URL,
        json=token_answer("write-token"),
        match=[
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials", "scope": "b"})
        ],
    )
    assert [member_center.service_token(s) for s in ("a", "b", "a", "b")] == [
        "read-token",
        "write-token",
        "read-token",
        "write-token",
    ]
    assert read.call_count == 1
    assert write.call_count == 1


def test_a_token_is_refreshed_fifteen_seconds_before_it_expires(mc, monkeypatch):
    calls = mc.post(TOKEN_URL, json=token_answer(expires_in=100))
    clock = SimpleNamespace(time=time.time)
    start = clock.time()
    # Only the client's clock moves: the cached entry itself stays put, so the
    # client's own margin check is what triggers the refresh.
    monkeypatch.setattr(member_center, "time", clock)
    member_center.service_token("s")
    clock.time = lambda: start + 84
    member_center.service_token("s")
    assert calls.call_count == 1
    clock.time = lambda: start + 86
    member_center.service_token("s")
    assert calls.call_count == 2


@pytest.mark.parametrize(("lifetime", "refreshed_after"), [(30, 15), (10, 5), (2, 1)])
def test_a_short_token_is_refreshed_at_half_its_life(mc, monkeypatch, lifetime, refreshed_after):
    calls = mc.post(TOKEN_URL, json=token_answer(expires_in=lifetime))
    clock = SimpleNamespace(time=time.time)
    start = clock.time()
    monkeypatch.setattr(member_center, "time", clock)
    member_center.service_token("s")
    clock.time = lambda: start + refreshed_after - 0.2
    member_center.service_token("s")
    assert calls.call_count == 1
    clock.time = lambda: start + refreshed_after + 0.2
    member_center.service_token("s")
    assert calls.call_count == 2


@pytest.fixture
def waiting(monkeypatch) -> set[int]:
    """The threads that waited for another caller's fetch (single_flight's poll)."""
    threads: set[int] = set()

    def poll_sleep(seconds: float) -> None:
        threads.add(threading.get_ident())
        time.sleep(seconds)

    monkeypatch.setattr(
        member_center, "single_flight", functools.partial(single_flight, sleep=poll_sleep)
    )
    return threads


def piled_up(waiting: set[int], callers: int) -> None:
    """Until every other caller waits behind the one fetch (a deadline as backstop)."""
    wait_for(lambda: len(waiting) == callers - 1, timeout=30, interval=0.01)


@pytest.mark.parametrize("lifetime", [15, 10, 5])
def test_a_hundred_callers_of_a_short_token_share_one_fetch(mc, lifetime, waiting):
    def slow_token(request):
        piled_up(waiting, 100)  # every caller piles up behind the one fetch
        body = {"access_token": "short", "expires_in": lifetime}
        return (200, {}, json.dumps(body))

    mc.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    start, results = threading.Barrier(100), []

    def caller():
        start.wait()
        results.append(member_center.service_token("s"))

    threads = [threading.Thread(target=caller) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["short"] * 100
    assert len(mc.calls) == 1


def test_failures_are_not_cached(mc):
    mc.post(TOKEN_URL, status=503)
    mc.post(TOKEN_URL, status=503)
    mc.post(TOKEN_URL, status=503)
    with pytest.raises(errors.TokenServiceUnavailable):
        member_center.service_token("s")
    mc.post(TOKEN_URL, json=token_answer("after-outage"))
    assert member_center.service_token("s") == "after-outage"


def test_an_outage_is_retried_twice(mc):
    calls = mc.post(TOKEN_URL, status=502)
    with pytest.raises(errors.TokenServiceUnavailable):
        member_center.service_token("s")
    assert calls.call_count == 3


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_credentials_are_our_misconfiguration_and_not_retried(mc, status):
    calls = mc.post(TOKEN_URL, status=status, json={"error": "invalid_client"})
    with pytest.raises(errors.CredentialsRefused):
        member_center.service_token("s")
    assert calls.call_count == 1


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"token_type": "Bearer"}', b"[]"])
def test_a_malformed_answer_is_an_outage_not_a_crash(mc, body):
    mc.post(TOKEN_URL, body=body, status=200)
    with pytest.raises(errors.TokenServiceUnavailable):
        member_center.service_token("s")


def test_concurrent_callers_share_one_fetch(mc, waiting):
    def slow_token(request):
        piled_up(waiting, 50)
        return (200, {}, '{"access_token": "shared", "expires_in": 3600}')

    mc.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(member_center.service_token("s")))
        for _ in range(50)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["shared"] * 50
    assert len(mc.calls) == 1


def test_the_secret_never_reaches_the_logs(mc, caplog):
    mc.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    with pytest.raises(errors.CredentialsRefused):
        member_center.service_token("s")
    assert "service-secret" not in caplog.text
    assert "upstream call" in caplog.text


# --- delegated download tokens -------------------------------------------------


def test_a_download_token_is_bound_to_the_user_and_object(mc):
    mc.post(TOKEN_URL, json=token_answer("delegate-svc"))
    mc.post(
        DOWNLOAD_URL,
        status=201,
        json={"token": "dl-1", "expires_at": "2030-01-01T00:00:00Z"},
        match=[
            matchers.header_matcher({"Authorization": "Bearer delegate-svc"}),
            matchers.json_params_matcher(
                {
                    "tenant_id": "t",
                    "user_id": "u",
                    "object_key": "k/1",
                    "method": "GET",
                    "expires_in_seconds": 300,
                }
            ),
        ],
    )
    token = member_center.download_token(tenant_id="t", user_id="u", object_key="k/1")
    assert token.token == "dl-1"
    assert token.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert "dl-1" not in repr(token)


def test_download_tokens_are_never_cached(mc):
    mc.post(TOKEN_URL, json=token_answer())
    issued = mc.post(DOWNLOAD_URL, json={"token": "dl", "expires_in_seconds": 60})
    member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    assert issued.call_count == 2


def test_expiry_falls_back_to_expires_in_seconds_then_the_requested_ttl(mc, monkeypatch):
    mc.post(TOKEN_URL, json=token_answer())
    mc.post(DOWNLOAD_URL, json={"token": "a", "expires_in_seconds": 60})
    mc.post(DOWNLOAD_URL, json={"token": "b"})
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # a clock that does not move
    monkeypatch.setattr(member_center.timezone, "now", lambda: now)
    first = member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    second = member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    assert (first.expires_at - now).total_seconds() == 60
    assert (second.expires_at - now).total_seconds() == member_center.DOWNLOAD_TOKEN_TTL_SECONDS


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, errors.DownloadTokenRefused),
        (403, errors.DownloadTokenRefused),
        (500, errors.DownloadTokenUnavailable),
    ],
)
def test_download_token_failures(mc, status, error):
    mc.post(TOKEN_URL, json=token_answer())
    mc.post(DOWNLOAD_URL, status=status, json={"error": "nope"})
    with pytest.raises(error):
        member_center.download_token(tenant_id="t", user_id="u", object_key="k")


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_download_token_drops_the_service_token(mc, status):
    first = mc.post(TOKEN_URL, json=token_answer("rotated-away"))
    mc.post(DOWNLOAD_URL, status=status, json={"error": "invalid_token"})
    with pytest.raises(errors.DownloadTokenRefused):
        member_center.download_token(tenant_id="t", user_id="u", object_key="k")
    mc.remove(first)
    mc.post(TOKEN_URL, json=token_answer("new-svc"))
    mc.post(
        DOWNLOAD_URL,
        json={"token": "dl"},
        match=[matchers.header_matcher({"Authorization": "Bearer new-svc"})],
    )
    assert member_center.download_token(tenant_id="t", user_id="u", object_key="k").token == "dl"


@pytest.mark.parametrize("lifetime", [0, -1, -3600, 0.0, "3600", True, [60]])
def test_a_token_without_a_usable_lifetime_is_an_outage(mc, lifetime):
    mc.post(TOKEN_URL, json=token_answer(expires_in=lifetime))
    with pytest.raises(errors.TokenServiceUnavailable):
        member_center.service_token("converter:job.read")


def test_a_token_without_a_lifetime_is_used_briefly(mc):
    mc.post(TOKEN_URL, json={"access_token": "no-lifetime", "token_type": "Bearer"})
    assert member_center.service_token("converter:job.read") == "no-lifetime"
