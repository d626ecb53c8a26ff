"""The deployment nudge crosses the real relay to a demo agent's tunnel.

The agent's tunnel answers ``POST /_visiona/deployments/sync`` itself: 202
``{"accepted": true}``, through the node the registry names (the user-facing relay
refusing that path is tests/e2e/test_deploy_push_live.py's).
"""

from __future__ import annotations

import io
import uuid

import pytest

from deployments import push as deployment_push
from deployments import services as deployment_services
from devices import relay_client, tunnel_registry
from tests.models_repo.conftest import make_model  # noqa: F401  (a fixture)
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_nudge_reaches_the_agent_through_the_relay(connected_agent, alice, make_model):  # noqa: F811
    model = make_model(alice, chips=("KL720",))
    results = deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[connected_agent.device_id]
    )
    assert results[0].outcome == "created"
    registration = wait_for(lambda: tunnel_registry.lookup(connected_agent.device_id))
    (future,) = deployment_push.push([connected_agent.device_id])
    assert future.result(timeout=10) == 202

    answer = relay_client.relay(
        node_url=registration.node_url,
        device_id=connected_agent.device_id,
        method="POST",
        path=deployment_push.PUSH_PATH,
        headers={"Content-Type": "application/json"},
        body=io.BytesIO(b"{}"),
        content_length=2,
        request_id=uuid.uuid4().hex,
        read_timeout=deployment_push.PUSH_TIMEOUT,
    )
    try:
        assert answer.status == 202
        assert answer.read_json(limit=1024) == {"accepted": True}
    finally:
        answer.close()
