"""The API answers as its OpenAPI document says, signed in (tests/openapi_conformance.py).

A file of its own, apart from the signed-out pass: under ``--dist loadfile`` the two
passes run in the two test processes at once.
"""

from __future__ import annotations

from tests.e2e.conftest import sandbox  # noqa: F401  (a fixture)
from tests.openapi_conformance import MARKS, check_the_api_answers_as_documented

pytestmark = MARKS


def test_the_api_answers_as_documented(live_server, sandbox, alice, bob, monkeypatch):  # noqa: F811
    check_the_api_answers_as_documented(alice, bob, signed_in=True, monkeypatch=monkeypatch)
