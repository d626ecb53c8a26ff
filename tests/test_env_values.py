"""Values from the environment: a number out of range, or an address that is not one,
stops start-up with its name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from visiona.env import env_int, env_origin


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


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("", ""),
        ("https://files.example.com", "https://files.example.com"),
        (" https://files.example.com/ ", "https://files.example.com"),
        ("http://10.0.0.5:9000", "http://10.0.0.5:9000"),
        ("http://[2001:db8::5]:9000", "http://[2001:db8::5]:9000"),
        ("HTTPS://Files.Example.com:443", "https://Files.Example.com:443"),
    ],
)
def test_an_origin_is_taken(monkeypatch, raw, value):
    monkeypatch.setenv("VISIONA_TEST_ORIGIN", raw)
    assert env_origin("VISIONA_TEST_ORIGIN") == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("files.example.com", "must be an http:// or https:// address"),
        ("ftp://files.example.com", "must be an http:// or https:// address"),
        ("https://files_example.com", "must be an http:// or https:// address"),
        ("https://files.example.com:99999", "must be an http:// or https:// address"),
        ("https://:9000", "must be an http:// or https:// address"),
        ("https://files.example.com/s3", "must be a scheme, host and port alone"),
        ("https://files.example.com?region=eu", "must be a scheme, host and port alone"),
        ("https://files.example.com/#top", "must be a scheme, host and port alone"),
    ],
)
def test_anything_but_an_origin_names_the_setting_and_what_it_got(monkeypatch, raw, message):
    monkeypatch.setenv("VISIONA_TEST_ORIGIN", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_origin("VISIONA_TEST_ORIGIN")
    assert str(refused.value).startswith(f"VISIONA_TEST_ORIGIN {message}")
    assert repr(raw) in str(refused.value)


def test_an_origin_with_a_password_is_refused_without_repeating_it(monkeypatch):
    monkeypatch.setenv("VISIONA_TEST_ORIGIN", "https://minio:hunter2@files.example.com")
    with pytest.raises(ImproperlyConfigured) as refused:
        env_origin("VISIONA_TEST_ORIGIN")
    assert "user name or password" in str(refused.value)
    assert "hunter2" not in str(refused.value)
