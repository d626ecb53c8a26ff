"""The sandbox's fault switch: armed failures answer, then wear off."""

import pytest

from sandbox import faults


def test_a_fault_answers_the_given_times_then_stops():
    faults.arm("faa.get", 503, times=2)
    assert [faults.take("faa.get") for _ in range(3)] == [503, 503, None]


def test_unknown_points_are_refused():
    with pytest.raises(ValueError):
        faults.arm("converter.everything", 500)


def test_faults_can_be_armed_and_cleared_over_http(client):
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
