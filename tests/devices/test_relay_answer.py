"""What a device's answer may be on our origin (devices/relay_answer.py): both paths use it."""

from __future__ import annotations

import pytest

from devices import errors
from devices.relay_answer import (
    answer_status,
    merged_vary,
    returned_headers,
    rewrite_location,
    with_policy,
)

DEVICE = "0b7c6a52-3f3e-4d7e-9a53-2b1c1f0e9d11"
BASE = f"/api/devices/{DEVICE}/agent/"


@pytest.mark.parametrize("status", [b"200", "204", b"302", b"404", b"599"])
def test_real_statuses_pass(status):
    assert answer_status(status) == int(status)


@pytest.mark.parametrize("status", [b"", b"2OO", b"999", b"600", b"199", b"101", b"20", b"0200"])
def test_impossible_statuses_are_a_bad_answer(status):
    with pytest.raises(errors.DeviceBadAnswer):
        answer_status(status)


@pytest.mark.parametrize(
    ("location", "path", "expected"),
    [
        ("/elsewhere", "/api/x", BASE + "elsewhere"),
        ("next?page=2#top", "/api/list", BASE + "api/next?page=2#top"),
        ("../../../../../tokens/", "/a/b", BASE + "tokens/"),
        ("", "/api/x", BASE + "api/x"),
    ],
)
def test_a_location_stays_under_the_relayed_path(location, path, expected):
    assert rewrite_location(location, device_id=DEVICE, device_path=path) == expected


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/",
        "http://device/x",
        "//evil.example/x",
        "\\\\evil.example\\x",
        "/\\evil.example",
        "javascript:alert(1)",
        "mailto:a@b.c",
        "/%2e%2e/%2e%2e/tokens",
        "/x/%2E./y",
    ],
)
def test_a_location_elsewhere_is_dropped(location):
    assert rewrite_location(location, device_id=DEVICE, device_path="/") is None


def test_the_device_cannot_act_on_our_origin():
    kept = returned_headers(
        [
            (b"Content-Type", b"text/html"),
            (b"Set-Cookie", b"sessionid=x"),
            (b"Access-Control-Allow-Origin", b"*"),
            (b"Content-Security-Policy", b"script-src *"),
            (b"Connection", b"x-private"),
            (b"X-Private", b"hop"),
            (b"Content-Length", b"12"),
            (b"X-Relay-Error", b"device_offline"),
            (b"Location", b"https://evil.example/"),
            (b"Content-Location", b"/real"),
            (b"ETag", b'"abc"'),
        ],
        device_id=DEVICE,
        device_path="/",
    )
    assert kept == [
        ("Content-Type", "text/html"),
        ("Content-Location", BASE + "real"),
        ("ETag", '"abc"'),
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Bad Header", "x"),
        ("X-Ok", "line\r\nSet-Cookie: x=1"),
        ("X-Ok", "nul\x00"),
        ("X-Ok", " leading"),
        ("", "x"),
        ("X-Ok", "x" * 9000),
        ("X(y)", "x"),
    ],
)
def test_malformed_headers_are_dropped(name, value):
    assert returned_headers([(name, value)], device_id=DEVICE, device_path="/") == []


def test_our_rules_are_added_and_bytes_are_the_default_type():
    assert with_policy([("X-Device", "1")]) == [
        ("Content-Type", "application/octet-stream"),
        ("X-Device", "1"),
        ("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
    ]


def test_vary_lists_merge_as_django_merges_them():
    assert merged_vary("Origin, accept-language", "Accept-Language, Cookie") == (
        "Origin, accept-language, Cookie"
    )
    assert merged_vary("", "Accept-Language, Cookie") == "Accept-Language, Cookie"
