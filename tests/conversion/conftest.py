import pytest

from tests.conversion.upstreams import upstream, upstream_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_budget_memo():
    from conversion.clients import budget

    budget.forget_published_limit()
    yield
    budget.forget_published_limit()
