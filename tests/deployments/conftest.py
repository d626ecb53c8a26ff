from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from deployments import download_slots
from devices.choices import Chip

# Deployments need devices and models: their apps' fixtures (each through its own services).
from tests.devices.conftest import agent_client, alice_device, issue_code, pair  # noqa: F401
from tests.models_repo.conftest import api_client, make_model, nef_bytes  # noqa: F401


@pytest.fixture
def slots_taken(monkeypatch):
    """The device ids of the download slots taken (deployments/download_slots.py)."""
    taken: list[str] = []
    take = download_slots.take

    def counted(*, device_id: str):
        taken.append(device_id)
        return take(device_id=device_id)

    monkeypatch.setattr(download_slots, "take", counted)
    return taken


@pytest.fixture
def api(alice) -> APIClient:
    return api_client(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return api_client(bob)


@pytest.fixture
def alice_kl720(alice, make_model):  # noqa: F811 (the imported fixture)
    """Alice's model built for KL720 (the fixture devices' chip)."""
    return make_model(alice, "detector", chips=("KL720",), size=300_000)


@pytest.fixture
def alice_devices(alice, issue_code, pair):  # noqa: F811 (the imported fixtures)
    """Make ``n`` more KL720 devices of Alice's (their PairingResults)."""
    counter = iter(range(1, 10_000))

    def make(n: int, *, chip: str = Chip.KL720):
        return [
            pair(issue_code(alice).code, serial=f"ALICE-{chip}-{next(counter):03d}", chip=chip)
            for _ in range(n)
        ]

    return make


# Groups, rollouts, rollback (tests/deployments/test_rollout_*.py).
from tests.deployments.rollout_support import committing, fleet  # noqa: E402, F401
