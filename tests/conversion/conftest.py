"""Shared by the conversion tests: the upstreams (responses) and a converter that
accepts every upload."""

import json

import pytest
import responses

from tests.conversion.upstreams import (  # noqa: F401
    CONVERTER,
    job_json,
    parse_upstream_form,
    upstream,
    upstream_settings,
)


@pytest.fixture
def converter_accepts(upstream):  # noqa: F811  (the fixture above)
    seen = []

    def create(request):
        seen.append(parse_upstream_form(request))
        return 201, {}, json.dumps(job_json(status="created", stage=None))

    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    return seen


@pytest.fixture(autouse=True)
def _fresh_budget_memo():
    from conversion.clients import budget

    budget.forget_published_limit()
    yield
    budget.forget_published_limit()
