"""The sandbox's fault switch: armed failures answer, then wear off."""

import pytest
from django.test import Client

from sandbox import faults


def test_a_fault_answers_the_given_times_then_stops():
    faults.arm("faa.get", 503, times=2)
    assert [faults.take("faa.get") for _ in range(3)] == [503, 503, None]


def test_unknown_points_are_refused():
    with pytest.raises(ValueError):
        faults.arm("converter.everything", 500)


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("operator", is_staff=True))
    return client


def _arm_over_http(client):
    return client.post(
        "/sandbox/_faults",
        {"point": "converter.get_job", "status": 500, "times": 1},
        content_type="application/json",
    )


@pytest.mark.django_db
def test_anonymous_visitors_cannot_arm_faults(client):
    response = _arm_over_http(client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert client.delete("/sandbox/_faults").status_code == 401
    assert faults.take("converter.get_job") is None


@pytest.mark.django_db
def test_signed_in_users_who_are_not_staff_cannot_arm_faults(alice_client):
    faults.arm("faa.get", 503)
    response = _arm_over_http(alice_client)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert alice_client.delete("/sandbox/_faults").status_code == 403
    assert faults.take("converter.get_job") is None
    assert faults.take("faa.get") == 503  # not cleared either


@pytest.mark.django_db
def test_the_switch_needs_a_csrf_token(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("operator", is_staff=True))
    assert _arm_over_http(client).status_code == 403
    assert faults.take("converter.get_job") is None


@pytest.mark.django_db
def test_faults_can_be_armed_and_cleared_over_http(staff_client):
    client = staff_client
    armed = client.post(
        "/sandbox/_faults",
        {"point": "converter.get_job", "status": 500, "times": 1},
        content_type="application/json",
    )
    assert armed.status_code == 201
    assert client.delete("/sandbox/_faults").status_code == 204
    assert faults.take("converter.get_job") is None
    refused = client.post("/sandbox/_faults", {"point": "x"}, content_type="application/json")
    assert refused.status_code == 400
