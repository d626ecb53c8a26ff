from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from devices import services
from devices.choices import Chip


@pytest.fixture
def issue_code():
    """A fresh pairing code for a user: the IssuedPairingCode (plain code in ``.code``)."""

    def issue(user):
        return services.pairing_code_create(user=user)

    return issue


@pytest.fixture
def pair():
    """Pair a device with a code, as the agent would (through the service)."""
    counter = iter(range(1, 10_000))

    def do_pair(code: str, *, serial: str | None = None, chip: str = Chip.KL720, **fields):
        return services.device_pair(
            code=code,
            serial=serial or f"SN-{next(counter):04d}",
            chip=chip,
            client_address=fields.pop("client_address", "192.0.2.10"),
            **fields,
        )

    return do_pair


@pytest.fixture
def alice_device(alice, issue_code, pair):
    """Alice's paired device: the PairingResult (device, device_token, plain token)."""
    return pair(issue_code(alice).code, serial="ALICE-0001", name="Bench KL720")


@pytest.fixture
def agent_client():
    """An API client for the agent API; ``agent_client(token)`` sends it as Bearer."""

    def make(token: str | None = None) -> APIClient:
        client = APIClient()
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


# Deployments need models: the models repository's factory (through its own service).
from tests.models_repo.conftest import make_model, nef_bytes  # noqa: E402, F401


@pytest.fixture
def alice_kl720(alice, make_model):  # noqa: F811 (the imported fixture)
    """Alice's model built for KL720 (the fixture devices' chip)."""
    return make_model(alice, "detector", chips=("KL720",), size=300_000)


@pytest.fixture
def alice_devices(alice, issue_code, pair):
    """Make ``n`` more KL720 devices of Alice's (their PairingResults)."""
    counter = iter(range(1, 10_000))

    def make(n: int, *, chip: str = Chip.KL720):
        return [
            pair(issue_code(alice).code, serial=f"ALICE-{chip}-{next(counter):03d}", chip=chip)
            for _ in range(n)
        ]

    return make
