"""The job page and the job API show the pre-flight's warnings, to the owner only."""

from __future__ import annotations

import pytest
import responses

from tests.conversion.factories import make_job
from tests.conversion.upstreams import CONVERTER, job_json

pytestmark = pytest.mark.django_db

WARNINGS = [
    {
        "code": "cpu_operator",
        "message": "Softmax (2 nodes) runs on the KL720's CPU, not its NPU.",
        "details": {
            "op_type": "Softmax",
            "domain": "",
            "count": 2,
            "note": 39,
            "note_text": "will be decompose to ReduceSum + Div + Exp",
        },
    },
    {
        "code": "dynamic_shape",
        "message": "Input images has a dynamic or unknown shape (?x3x224x224).",
        "details": {"input": "images", "shape": [None, 3, 224, 224]},
    },
]


def test_the_job_page_shows_the_warnings(alice_client, alice, upstream_settings):
    job = make_job(alice, status="completed", preflight_warnings=WARNINGS)
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert 'id="preflight-warnings"' in content
    assert "Softmax runs on the chip&#x27;s CPU, not its NPU (nodes: 2)." in content
    assert "ReduceSum + Div + Exp" in content
    assert "Input images has a dynamic or unknown shape" in content


def test_the_job_page_words_them_in_chinese(alice_client, alice, upstream_settings):
    job = make_job(alice, status="completed", preflight_warnings=WARNINGS)
    response = alice_client.get(f"/convert/{job.job_id}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    content = response.content.decode()
    assert "Softmax" in content and "runs on the chip" not in content


def test_no_warnings_no_box(alice_client, alice, upstream_settings):
    job = make_job(alice, status="completed")
    assert b"preflight-warnings" not in alice_client.get(f"/convert/{job.job_id}/").content


def test_another_user_never_sees_them(bob_client, alice, upstream_settings):
    job = make_job(alice, status="completed", preflight_warnings=WARNINGS)
    assert bob_client.get(f"/convert/{job.job_id}/").status_code == 404
    assert bob_client.get(f"/api/conversion/{job.job_id}").status_code == 404


def test_anonymous_visitors_get_nothing(client, alice, upstream_settings):
    job = make_job(alice, status="completed", preflight_warnings=WARNINGS)
    assert client.get(f"/api/conversion/{job.job_id}").status_code == 401


def test_the_job_api_carries_them(alice_client, alice, upstream):
    job = make_job(alice, status="running", preflight_warnings=WARNINGS)
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs/{job.job_id}",
        json=job_json(job.job_id, status="running"),
    )
    data = alice_client.get(f"/api/conversion/{job.job_id}").json()
    assert [w["code"] for w in data["preflight_warnings"]] == ["cpu_operator", "dynamic_shape"]
    assert data["preflight_warnings"][0]["note"] == "will be decompose to ReduceSum + Div + Exp"
    assert data["preflight_warnings"][1]["note"] == ""
