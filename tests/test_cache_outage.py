"""Redis down: everything kept in the shared cache fails closed with a 503, never a 500.

The cache holds the pairing limiter, the upload lease, single-flight locks (service
tokens, the active-job banner), the converter budget and the poll refresh claims.
Pointed at a closed port, each of them answers the one envelope (API) or the error
page, with ``cache_unavailable``. Sessions stay in the database here, so what is
tested is the cache alone (tests/test_sessions.py covers the session store).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from conversion import upload_lease
from devices import services as device_services
from tests.conversion.factories import make_job
from tests.conversion.upstreams import (  # noqa: F401  (fixtures)
    BOUNDARY,
    multipart_body,
    standard_parts,
    upstream,
    upstream_settings,
)
from tokens import services as token_services
from visiona.api.scopes import Scope
from visiona.single_flight import single_flight

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(settings):
    """The cache in a Redis that is not there (a closed port); sessions in the database."""
    take_the_cache_down(settings)


def take_the_cache_down(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture
def token_for(alice):
    def make(*scopes: Scope) -> dict[str, str]:
        issued = token_services.token_create(
            owner=alice, name="ci", scopes=[s.value for s in scopes], expires_in_days=1
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}

    return make


def assert_cache_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response.json()["error"]["code"] == "cache_unavailable"


@pytest.mark.parametrize("code", ["ABCD-EFGH", "not a code", "2345-6789"])
def test_a_pairing_exchange_is_503(cache_down, code):
    response = Client().post(
        "/api/agent/pair",
        {"code": code, "serial": "SN-1", "chip": "KL720"},
        content_type="application/json",
    )
    assert_cache_unavailable(response)


def test_a_conversion_upload_is_503_and_sends_nothing(cache_down, token_for, upstream):  # noqa: F811
    body = multipart_body(standard_parts())
    response = Client().generic(
        "POST",
        "/api/conversion/init",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        **token_for(Scope.CONVERT),
    )
    assert_cache_unavailable(response)
    assert len(upstream.calls) == 0  # nothing reached the converter


def test_a_job_poll_is_503(cache_down, upstream, alice, token_for):  # noqa: F811
    job = make_job(alice)
    response = Client().get(f"/api/conversion/{job.job_id}", **token_for(Scope.READ))
    assert_cache_unavailable(response)


def test_the_active_job_is_503(cache_down, upstream, alice, token_for):  # noqa: F811
    make_job(alice)
    response = Client().get("/api/conversion/active", **token_for(Scope.READ))
    assert_cache_unavailable(response)


def test_a_page_that_reads_the_cache_is_the_503_page(cache_down, upstream, alice):  # noqa: F811
    make_job(alice)  # the banner's single flight reads the cache on every page
    client = Client()
    client.force_login(alice)
    response = client.get("/convert/")
    assert response.status_code == 503
    assert b"Traceback" not in response.content


def test_the_lease_raises_the_cache_error_for_the_handler(cache_down, alice):
    with pytest.raises(RedisError), upload_lease.upload_lease(user=alice):
        pass  # pragma: no cover


def test_a_lease_whose_release_meets_an_outage_only_logs(alice, monkeypatch, caplog):
    """Redis gone between taking the lease and giving it back: the upload's answer (or
    its own error) stands; the lease lapses by itself within LEASE_SECONDS."""

    class Gone:
        def __getattr__(self, name):
            def refused(*args, **kwargs):
                raise RedisConnectionError("Connection refused")

            return refused

    with (
        caplog.at_level("WARNING", logger="conversion.upload_lease"),
        pytest.raises(ValueError, match="the upload's own failure"),
        upload_lease.upload_lease(user=alice) as lease,
    ):
        key = lease._key
        monkeypatch.setattr(upload_lease, "cache", Gone())
        raise ValueError("the upload's own failure")
    monkeypatch.undo()
    assert "upload lease not released" in caplog.text
    assert cache.get(key) is not None  # left to lapse, not deleted
    cache.delete(key)


def test_single_flight_raises_the_cache_error_for_the_handler(cache_down):
    computed = []
    with pytest.raises(RedisError):
        single_flight("k", lambda: computed.append(1), ttl=1)
    assert computed == []


def test_the_pairing_limiter_raises_the_cache_error_for_the_handler(cache_down):
    with pytest.raises(RedisError):
        device_services.device_pair(
            code="ABCD-EFGH", serial="SN-2", chip="KL720", client_address="192.0.2.1"
        )


def test_after_the_outage_everything_works_again():
    # Without cache_down: the same exchange is answered on its merits (a wrong code).
    response = Client().post(
        "/api/agent/pair",
        {"code": "ABCD-EFGH", "serial": "SN-1", "chip": "KL720"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "pairing_code_invalid"


@pytest.mark.redis
def test_a_relayed_request_is_503_when_the_tunnel_registry_is_down(settings, alice):
    # The registry is in Redis when REDIS_URL is set: down, nobody can say where the
    # device's tunnel is, which is the tunnel's own outage answer (503
    # tunnel_unavailable), not "offline" and not a 500.
    code = device_services.pairing_code_create(user=alice).code
    device = device_services.device_pair(
        code=code, serial="SN-OUT", chip="KL720", client_address="192.0.2.1"
    ).device
    take_the_cache_down(settings)  # after pairing, which needs the limiter
    client = Client()
    client.force_login(alice)
    response = client.get(f"/api/devices/{device.pk}/agent/api/system/deps")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "tunnel_unavailable"
