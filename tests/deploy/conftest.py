"""Fixtures of other apps' tests the stack's tests use: models, paired devices."""

from tests.devices.conftest import alice_device, issue_code, pair  # noqa: F401
from tests.models_repo.conftest import make_model  # noqa: F401
