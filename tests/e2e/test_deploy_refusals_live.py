"""Chip mismatch refused before anything is sent; a cancel mid-download stops the
agent, which deletes its partial file."""

from __future__ import annotations

import pytest

from deployments.models import Deployment
from tests.e2e.deployment_support import FileTap, deploy, wait_state
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZE = 2 * 1024 * 1024


def test_a_model_for_another_chip_is_refused_and_nothing_is_created(
    connected_agent,
    alice,
    alice_http,
    make_model,
):
    model = make_model(alice, "For a KL520", chips=("KL520",))
    refused = deploy(alice_http, model.pk, connected_agent.device_id)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "chip_mismatch"
    assert error["details"]["devices"][0]["chip"] == "KL720"
    assert error["details"]["model_chips"] == ["KL520"]
    assert not Deployment.objects.exists()


def test_a_cancel_mid_download_stops_the_agent_and_deletes_its_partial(
    connected_agent,
    alice,
    alice_http,
    make_model,
    monkeypatch,
):
    tap = FileTap(monkeypatch)
    tap.hold_at = SIZE // 2
    model = make_model(alice, "Cancelled detector", chips=("KL720",), size=SIZE)
    created = deploy(alice_http, model.pk, connected_agent.device_id)
    deployment_id = created.json()["results"][0]["deployment"]["id"]
    partial = connected_agent.state_dir / "models" / ".partial" / f"{deployment_id}.part"
    assert tap.held.wait(30)
    wait_for(lambda: partial.exists(), timeout=10)

    cancelled = alice_http.post(f"/api/deployments/{deployment_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    # The push wakes the agent: it stops the download and deletes what it had.
    wait_for(lambda: not partial.exists() and not partial.with_suffix(".json").exists())
    tap.release.set()
    assert wait_state(deployment_id, "cancelled").finished_at is not None
    installed = connected_agent.state_dir / "models" / f"cancelled-detector-{model.pk}.nef"
    assert not installed.exists()
    assert len(tap.requests) == 1  # it did not ask again
