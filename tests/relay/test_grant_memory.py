"""The internal port's memory of used grants (once-only): a grant is refused the second
time within its life, and the memory forgets grants only once they could no longer pass
the signature's age check anyway."""

from __future__ import annotations

from devices.relay_grant import GRANT_MAX_AGE_SECONDS, Grant
from relay.exchange import Limits
from relay.internal_server import InternalServer


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _server(monkeypatch) -> tuple[InternalServer, _Clock]:
    clock = _Clock()
    monkeypatch.setattr("relay.internal_server.time.monotonic", clock)
    limits = Limits(max_body_bytes=1, head_seconds=1, idle_seconds=1, total_seconds=1)
    return InternalServer(node=None, secret="s" * 60, limits=limits), clock  # type: ignore[arg-type]


def _grant(slot_id: str) -> Grant:
    return Grant(
        device_id="d",
        user_id=1,
        slot_id=slot_id,
        method="GET",
        target="/devices/d/x",
        language="en",
        request_id="r",
    )


def test_a_grant_passes_once(monkeypatch):
    server, _clock = _server(monkeypatch)
    assert server._first_use(_grant("a"))
    assert not server._first_use(_grant("a"))
    assert server._first_use(_grant("b"))


def test_expired_grants_are_forgotten_and_live_ones_kept(monkeypatch):
    server, clock = _server(monkeypatch)
    for index in range(100):
        assert server._first_use(_grant(f"old-{index}"))
        clock.now += 0.01
    clock.now += GRANT_MAX_AGE_SECONDS / 2
    assert server._first_use(_grant("recent"))
    # Past the old ones' life (their signatures too old to pass), within the recent one's.
    clock.now += GRANT_MAX_AGE_SECONDS / 2 + 2
    assert server._first_use(_grant("new"))
    assert set(server._used_grants) == {"recent", "new"}
    assert not server._first_use(_grant("recent"))
    assert not server._first_use(_grant("new"))
