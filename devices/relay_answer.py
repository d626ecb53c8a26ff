"""What a device's answer may be on visionA's origin: the one set of rules, both paths.

A relayed answer reaches the user from our own origin, either through Django
(``devices/api/relay.py`` streams it) or, with ``X-Visiona-Offload: relay``, straight
from the relay node through nginx (``relay/offload.py``). Both apply the rules
here, so the two paths cannot drift:

- the status must be a final HTTP status (200-599); anything else is the device's
  garbage: 502 ``device_bad_answer``;
- headers with an invalid name or value are dropped; so are hop-by-hop headers and
  those that would act on our origin rather than describe the content (cookies,
  CORS grants, security policies, caching rules, ``Refresh``...);
- ``Location`` (and ``Content-Location``) is read in the device's own namespace and
  rewritten under the relayed path (``/api/devices/<id>/agent/...``): a redirect never
  leaves it; an absolute URL to anywhere else is dropped;
- our own rules are added: ``Content-Security-Policy: sandbox``, ``nosniff``,
  ``no-store``, and a byte type when the device names none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit

from devices import errors

# What a relayed answer may not do on our origin: run script or plugins (sandbox,
# and nothing may load), be sniffed into another type, or be kept by a cache.
ANSWER_SECURITY_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
# When the agent names no type: bytes, never HTML.
DEFAULT_CONTENT_TYPE = "application/octet-stream"
POLICY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", ANSWER_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)

ERROR_HEADER = "X-Relay-Error"
REQUEST_ID_HEADER = "X-Request-Id"

# RFC 9110 7.6.1, and the older names proxies still send.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers of the agent's answer that would act on visionA's origin rather than
# describe the content: cookies, site data, CORS grants, security policies,
# caching and redirection rules. Our own rules take their place. The length is
# not the device's to state either: answers are forwarded as they stream.
NOT_RETURNED = frozenset(
    {
        "set-cookie",
        "set-cookie2",
        "clear-site-data",
        "content-security-policy",
        "content-security-policy-report-only",
        "cross-origin-embedder-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
        "permissions-policy",
        "referrer-policy",
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "x-xss-protection",
        "x-permitted-cross-domain-policies",
        "service-worker-allowed",
        "origin-agent-cluster",
        "cache-control",
        "expires",
        "pragma",
        "alt-svc",
        "refresh",
        "report-to",
        "reporting-endpoints",
        "nel",
        "server",
        "date",
        "content-length",
        "x-accel-redirect",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-expires",
        "x-accel-limit-rate",
        ERROR_HEADER.lower(),
        REQUEST_ID_HEADER.lower(),
    }
)
_REWRITTEN = frozenset({"location", "content-location"})
# RFC 9110 5.1 (a token) and 5.5 (visible characters, spaces and tabs inside, obs-text).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VISIBLE = r"[\x21-\x7e\x80-\xff]"
_HEADER_VALUE = re.compile(rf"^({_VISIBLE}([\t\x20-\x7e\x80-\xff]*{_VISIBLE})?)?$")
MAX_HEADER_VALUE = 8192


def relayed_base(device_id: str) -> str:
    """Where the device's namespace starts on our origin."""
    return f"/api/devices/{device_id}/agent/"


def answer_status(raw: object) -> int:
    """The device's status as an int, or ``DeviceBadAnswer`` for an impossible one."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    if len(text) != 3 or not text.isdigit() or not 200 <= int(text) <= 599:
        raise errors.DeviceBadAnswer()
    return int(text)


def _connection_tokens(headers: list[tuple[str, str]]) -> set[str]:
    # Headers named in Connection are hop-by-hop for this one message.
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens |= {token.strip().lower() for token in value.split(",") if token.strip()}
    return tokens


def _as_text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def returned_headers(
    headers: Iterable[tuple[str | bytes, str | bytes]], *, device_id: str, device_path: str
) -> list[tuple[str, str]]:
    """The device's answer headers that may reach the user, in their order.

    ``device_path`` is the path the device was asked for (``/api/x?q``): a relative
    ``Location`` is resolved against it.
    """
    pairs = [(_as_text(name), _as_text(value)) for name, value in headers]
    dropped = HOP_BY_HOP | NOT_RETURNED | _connection_tokens(pairs)
    kept: list[tuple[str, str]] = []
    for name, value in pairs:
        lowered = name.lower()
        if (
            lowered in dropped
            or lowered.startswith((":", "access-control-", "x-relay-"))
            or not is_valid_header(name, value)
        ):
            continue
        if lowered in _REWRITTEN:
            rewritten = rewrite_location(value, device_id=device_id, device_path=device_path)
            if rewritten is None:
                continue
            value = rewritten
        kept.append((name, value))
    return kept


def is_valid_header(name: str, value: str) -> bool:
    """Whether ``name: value`` is a well-formed header field (RFC 9110 5.1, 5.5)."""
    return (
        bool(_HEADER_NAME.match(name))
        and len(value) <= MAX_HEADER_VALUE
        and bool(_HEADER_VALUE.match(value))
    )


def merged_vary(first: str, second: str) -> str:
    """Both ``Vary`` lists in one, each name once (as Django's ``patch_vary_headers``)."""
    names: list[str] = []
    for part in f"{first},{second}".split(","):
        part = part.strip()
        if part and part.lower() not in {name.lower() for name in names}:
            names.append(part)
    return ", ".join(names)


def rewrite_location(value: str, *, device_id: str, device_path: str) -> str | None:
    """``value`` (a Location the device gave) under the relayed path, or None to drop it.

    The device's URLs are read in its own namespace: ``/x`` is the device's ``/x``,
    at ``/api/devices/<id>/agent/x`` here; ``../..`` cannot climb out of it. An
    absolute URL (a scheme or a host) points elsewhere: dropped.
    """
    split = urlsplit(value)
    if split.scheme or split.netloc or value.startswith(("//", "\\")) or "\\" in value:
        return None
    resolved = urlsplit(urljoin("http://device" + (device_path or "/"), value))
    if resolved.netloc != "device":
        return None
    path = resolved.path.lstrip("/")
    if any(unquote(segment) in {".", ".."} for segment in path.split("/")):
        return None  # a browser reads %2e%2e as "..": it would climb out
    target = relayed_base(device_id) + path
    if resolved.query:
        target += "?" + resolved.query
    if resolved.fragment:
        target += "#" + resolved.fragment
    return target


def with_policy(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` (already ``returned_headers``) and our own rules for the answer."""
    out = list(headers)
    if not any(name.lower() == "content-type" for name, _value in out):
        out.insert(0, ("Content-Type", DEFAULT_CONTENT_TYPE))
    return out + list(POLICY_HEADERS)
