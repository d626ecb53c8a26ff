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
