"""The models tests' factory, for the stack's tests that store a model first."""

from tests.models_repo.conftest import make_model  # noqa: F401
