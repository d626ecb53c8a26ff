"""The client's address, as seen through the proxies we trust.

Behind a TLS proxy every request's ``REMOTE_ADDR`` is the proxy's, so a limit
keyed on it would be one limit for everybody. ``X-Forwarded-For`` names the
real client, but anyone can send that header: it is read only when the request
came from an address in ``TRUSTED_PROXIES``, and then from the right, skipping
our own proxies, so the first address no proxy of ours vouches for is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: list[str]) -> tuple[IPNetwork, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` as networks; a malformed entry stops the app."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES entries must be IP addresses or networks, got {entry!r}"
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(list(entries))


def _address(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is still that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (empty if none is known)."""
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return ""

    def is_trusted(address: IPAddress) -> bool:
        return any(address in network for network in trusted)

    client = remote
    if is_trusted(client):
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # A trusted proxy passed on something that is not an address: the
                # hop before it is the last one we can vouch for.
                break
            client = address
            if not is_trusted(address):
                break
    return str(client)
