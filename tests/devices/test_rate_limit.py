"""Wrong codes are rate-limited per client address (IPv6: per /64), and by nothing a
stranger can share with a code's owner (not the code's first characters)."""

import pytest

from devices import ratelimit
from devices.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The rate limiter's clock, moved by hand (no sleeping)."""
    now = {"t": 1_000_000.0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.DEVICE_PAIRING_RATE_LIMIT = 3
    settings.DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS = 600


def _try(agent_client, code, address="198.51.100.1", serial="SN-1"):
    body = {"code": code, "serial": serial, "chip": "KL520"}
    return agent_client().post("/api/agent/pair", body, format="json", REMOTE_ADDR=address)


def _wrong_codes(count, prefix="ZZZZ"):
    # Same prefix, different codes: what a guesser of one code would send.
    return [f"{prefix}-{suffix}" for suffix in ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE"][:count]]


def test_it_engages_after_the_limit_with_retry_after(agent_client, clock):
    for code in _wrong_codes(3):
        assert _try(agent_client, code).status_code == 400
    response = _try(agent_client, "ZZZZ-FFFF")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 600


def test_it_refuses_even_a_right_code_from_a_blocked_address(
    alice, issue_code, agent_client, clock
):
    for code in _wrong_codes(3):
        _try(agent_client, code)
    code = issue_code(alice).code
    assert not code.startswith("ZZZZ")
    assert _try(agent_client, code).status_code == 429
    assert not Device.objects.exists()
    assert _try(agent_client, code, address="198.51.100.2").status_code == 201


def test_strangers_who_know_a_codes_start_cannot_lock_its_owner_out(
    alice, issue_code, agent_client, clock
):
    code = issue_code(alice).code
    prefix = code[:4]
    # Many strangers, each up to the limit, all guessing at this code's prefix.
    for stranger in range(5):
        for guess in _wrong_codes(3, prefix=prefix):
            if guess != code:
                assert _try(agent_client, guess, address=f"203.0.113.{stranger}").status_code == 400
        assert (
            _try(agent_client, f"{prefix}-ZZZZ", address=f"203.0.113.{stranger}").status_code == 429
        )
    assert _try(agent_client, code, address="198.51.100.50").status_code == 201


def test_a_blocked_stranger_stays_blocked_whatever_prefix_it_tries(agent_client, clock):
    for code in _wrong_codes(3, prefix="YYYY"):
        _try(agent_client, code, address="203.0.113.7")
    for prefix in ("ZZZZ", "AAAA", "2345"):
        assert _try(agent_client, f"{prefix}-GGGG", address="203.0.113.7").status_code == 429


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one guesser
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),  # another /64
        ("::ffff:198.51.100.9", "198.51.100.9", True),  # IPv4 mapped is the IPv4 address
        ("198.51.100.9", "198.51.100.10", False),
    ],
)
def test_ipv6_addresses_count_per_64(agent_client, clock, first, second, shared):
    for code in _wrong_codes(3):
        _try(agent_client, code, address=first)
    expected = 429 if shared else 400
    assert _try(agent_client, "ZZZZ-GGGG", address=second).status_code == expected


def test_it_limits_one_address_across_prefixes(agent_client, clock):
    for prefix in ["AAAA", "BBBB", "CCCC"]:
        _try(agent_client, f"{prefix}-ZZZZ")
    assert _try(agent_client, "DDDD-ZZZZ").status_code == 429


def test_it_resets_when_the_window_ends(alice, issue_code, agent_client, clock):
    for code in _wrong_codes(3):
        _try(agent_client, code)
    assert _try(agent_client, "ZZZZ-HHHH").status_code == 429
    clock["t"] += 600
    assert _try(agent_client, "ZZZZ-HHHH").status_code == 400
    assert _try(agent_client, issue_code(alice).code).status_code == 201


def test_a_success_does_not_reset_the_counters(alice, issue_code, agent_client, clock):
    for code in _wrong_codes(2):
        _try(agent_client, code)
    assert _try(agent_client, issue_code(alice).code, serial="SN-OK").status_code == 201
    assert _try(agent_client, "ZZZZ-KKKK").status_code == 400
    assert _try(agent_client, "ZZZZ-MMMM").status_code == 429


def test_serial_conflicts_do_not_count_as_failures(alice, issue_code, pair, agent_client, clock):
    pair(issue_code(alice).code, serial="SN-1")
    for _ in range(4):
        assert _try(agent_client, issue_code(alice).code, serial="SN-1").status_code == 409


def test_behind_a_trusted_proxy_it_limits_the_forwarded_client(agent_client, settings, clock):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    def via_proxy(code, client):
        body = {"code": code, "serial": "SN-1", "chip": "KL520"}
        return agent_client().post(
            "/api/agent/pair",
            body,
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{client}, 10.0.0.3",
        )

    for prefix in ["AAAA", "BBBB", "CCCC"]:
        assert via_proxy(f"{prefix}-ZZZZ", "198.51.100.7").status_code == 400
    assert via_proxy("DDDD-ZZZZ", "198.51.100.7").status_code == 429
    # Another agent behind the same proxy is not blocked by the noisy one.
    assert via_proxy("EEEE-ZZZZ", "198.51.100.8").status_code == 400


def test_an_untrusted_sender_cannot_pick_its_address(agent_client, clock):
    for index, prefix in enumerate(["AAAA", "BBBB", "CCCC"]):
        agent_client().post(
            "/api/agent/pair",
            {"code": f"{prefix}-ZZZZ", "serial": "SN-1", "chip": "KL520"},
            format="json",
            REMOTE_ADDR="198.51.100.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{index}",
        )
    assert _try(agent_client, "DDDD-ZZZZ", address="198.51.100.1").status_code == 429
