"""The client address behind trusted proxies: X-Forwarded-For only from them."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from visiona.client_address import client_address, parse_networks


def address_of(remote: str, forwarded: str | None = None) -> str:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_it_reads_the_header_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address_of("10.1.2.3", "198.51.100.1") == "198.51.100.1"


def test_it_ignores_the_header_from_anyone_else(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address_of("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_a_forged_leftmost_hop_does_not_win(settings):
    # The client sent "1.2.3.4" itself; our proxy appended the address it saw.
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address_of("10.1.2.3", "1.2.3.4, 198.51.100.1") == "198.51.100.1"


def test_it_skips_every_trusted_hop(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    assert address_of("10.1.2.3", "198.51.100.1, 192.0.2.10, 10.9.9.9") == "198.51.100.1"


def test_a_garbage_hop_stops_at_the_last_address_vouched_for(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address_of("10.1.2.3", "198.51.100.1, not-an-address") == "10.1.2.3"


def test_ports_and_mapped_addresses_are_normalised(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert address_of("::ffff:127.0.0.1", "198.51.100.1:5123") == "198.51.100.1"
    assert address_of("127.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"


def test_no_remote_address_is_empty(settings):
    assert address_of("") == ""


def test_a_malformed_entry_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        parse_networks(["10.0.0.0/8", "proxy.internal"])
