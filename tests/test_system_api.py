import pytest

import visiona

pytestmark = pytest.mark.django_db


def test_info_names_the_service_version_and_environment(client, settings):
    response = client.get("/api/system/info")
    assert response.status_code == 200
    assert response.json() == {
        "service": "visiona-cloud",
        "version": visiona.__version__,
        "environment": settings.VISIONA_ENVIRONMENT,
    }


def test_health_needs_a_signed_in_user(client):
    response = client.get("/api/system/health")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_health_reports_the_app_and_the_users_devices(alice_client):
    body = alice_client.get("/api/system/health").json()
    assert body["status"] == "ok"
    assert all(state == "ok" for state in body["checks"].values())
    assert body["devices"]["total"] == 0
    assert body["devices"]["online"] == 0
    assert isinstance(body["conversion_enabled"], bool)


def test_health_says_degraded_when_a_dependency_is_down(alice_client, monkeypatch):
    monkeypatch.setattr("visiona.health.run_checks", lambda: {"redis": "down"})
    body = alice_client.get("/api/system/health").json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"redis": "down"}
