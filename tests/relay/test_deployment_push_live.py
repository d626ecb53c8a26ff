"""The deployment nudge crosses the real relay to a demo agent's tunnel.

What the agent answers is its side's (202 {"accepted": true} once client/ serves
``/_visiona/``); here: the nudge reaches the agent through the node the registry
names, after the create commits, and the user-facing relay refuses the path.
"""

from __future__ import annotations

import pytest

from devices import deployment_push, deployment_services
from tests.models_repo.conftest import make_model  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_nudge_reaches_the_agent_through_the_relay(connected_agent, alice, make_model):  # noqa: F811
    model = make_model(alice, chips=("KL720",))
    results = deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[connected_agent.device_id]
    )
    assert results[0].outcome == "created"
    (future,) = deployment_push.push([connected_agent.device_id])
    status = future.result(timeout=10)
    # An answer from the agent's end of the tunnel (not None: the relay reached it).
    assert isinstance(status, int), status
