"""Numbers from the environment: a value out of range stops start-up with its name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from visiona.env import env_int


@pytest.mark.parametrize(("raw", "value"), [("5", 5), (" 30 ", 30), ("60", 60), ("", 30)])
def test_an_integer_within_its_range_is_taken(monkeypatch, raw, value):
    monkeypatch.setenv("VISIONA_TEST_NUMBER", raw)
    assert env_int("VISIONA_TEST_NUMBER", 30, minimum=5, maximum=60) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("4", "VISIONA_TEST_NUMBER must be at least 5, got 4"),
        ("61", "VISIONA_TEST_NUMBER must be at most 60, got 61"),
        ("thirty", "VISIONA_TEST_NUMBER must be an integer, got 'thirty'"),
    ],
)
def test_a_value_out_of_range_names_the_setting_and_its_bound(monkeypatch, raw, message):
    monkeypatch.setenv("VISIONA_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_int("VISIONA_TEST_NUMBER", 30, minimum=5, maximum=60)
    assert str(refused.value) == message
