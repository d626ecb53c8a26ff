"""The server's half of "two models never share a file on the device": every work item
carries the model's id, which the agent puts in the file name (docs/deployments.md).
Names that differ only by case or punctuation are two models with two ids."""

from __future__ import annotations

import pytest

from deployments import services as deployment_services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "names", [("Detector", "detector"), ("person detector", "Person-Detector!"), ("a_b", "a b")]
)
def test_models_named_alike_reach_the_agent_with_their_own_ids(
    alice, alice_device, make_model, agent_client, names
):
    models = [make_model(alice, name, chips=("KL720",), size=1000) for name in names]
    for model in models:
        deployment_services.deployments_create(
            user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
        )
    items = agent_client(alice_device.token).get("/api/agent/deployments").json()["deployments"]
    sent = {item["model"]["name"]: item["model"]["id"] for item in items}
    assert sent == {model.name: model.pk for model in models}
    assert len(set(sent.values())) == 2
