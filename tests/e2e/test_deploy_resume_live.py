"""A download cut at half resumes with Range and visionA sends only the rest
(counted by visionA itself, at its file endpoint)."""

from __future__ import annotations

import pytest

from tests.e2e.deployment_support import FileTap, deploy, sha256_of, wait_state

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZE = 4 * 1024 * 1024


def test_a_download_cut_at_half_transfers_only_the_rest(
    connected_agent,
    alice,
    alice_http,
    make_model,
    monkeypatch,
):
    tap = FileTap(monkeypatch)
    tap.cut_at = SIZE // 2
    model = make_model(alice, "Resumed detector", chips=("KL720",), size=SIZE)
    created = deploy(alice_http, model.pk, connected_agent.device_id)
    assert created.status_code == 201, created.text
    deployment = wait_state(created.json()["results"][0]["deployment"]["id"], "installed", "failed")

    assert deployment.state == "installed", deployment.error_message
    first, *rest = tap.requests
    assert first == {"range": None, "status": 200, "served": SIZE // 2}
    assert [entry["range"] for entry in rest] == [f"bytes={SIZE // 2}-"]
    assert rest[0]["status"] == 206
    assert tap.served == SIZE  # half, then the other half: nothing sent twice
    installed = connected_agent.state_dir / "models" / f"resumed-detector-{model.pk}.nef"
    assert sha256_of(installed) == model.sha256
