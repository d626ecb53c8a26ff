"""The grant: Django's signed word to a relay node that nginx may fetch one answer.

Behind an nginx that relays (``X-Visiona-Offload: relay``) the web app authorizes a
relayed request (owner, scope, path, caps) and answers nginx with
``X-Accel-Redirect: @visiona_relay`` and these headers, which the internal location
copies (deploy/nginx/visiona/relay-answer.conf):

- ``X-Relay-Node``: ``host:port`` of the node holding the device's tunnel;
- ``X-Relay-Target``: ``/devices/<id>/<path>?<query>``, the node's path;
- ``X-Relay-Grant``: what follows, signed.

The grant is Django's ``signing.dumps`` of a small JSON object (zlib-compressed,
base64), a timestamp and an HMAC-SHA256 keyed from ``RELAY_INTERNAL_SECRET`` with
its own salt: ``<payload>:<timestamp>:<signature>``. The node accepts it for
``GRANT_MAX_AGE_SECONDS`` after it was made, once, and only for the method and
target it names. It carries what the node needs to answer the user as Django would:
the language of the envelopes, the request id, and the headers the web stack gave
this answer (``site_headers``: the frame, referrer and opener policies, the
language, ``Vary``...), which nginx does not pass on from an ``X-Accel-Redirect``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from django.conf import settings
from django.core import signing

GRANT_HEADER = "X-Relay-Grant"
NODE_HEADER = "X-Relay-Node"
TARGET_HEADER = "X-Relay-Target"
# nginx's named location for relayed answers (deploy/nginx/visiona.conf).
ACCEL_LOCATION = "@visiona_relay"
# From Django's answer to nginx's first byte to the node: milliseconds; a grant
# older than this was kept somewhere it should not have been.
GRANT_MAX_AGE_SECONDS = 30
_SALT = "visiona.relay.grant.v1"


@dataclass(frozen=True)
class Grant:
    device_id: str
    user_id: int
    slot_id: str  # the cap's slot this exchange holds; the node renews and frees it
    method: str
    target: str  # /devices/<id>/<path>?<query>, as the node receives it
    language: str  # of the error envelopes the node writes
    request_id: str
    site_headers: list[tuple[str, str]] = field(default_factory=list)
    # Headers of our own error envelopes only (DRF's Allow).
    error_headers: list[tuple[str, str]] = field(default_factory=list)


def grant_sign(grant: Grant) -> str:
    # The fields as they are (``asdict`` deep-copies every header pair: a quarter of
    # the signing's CPU); JSON makes the tuples lists all the same.
    payload = {name: getattr(grant, name) for name in _FIELDS}
    return signing.dumps(payload, key=_key(), salt=_SALT, compress=True)


_FIELDS = tuple(item.name for item in fields(Grant))


def grant_verify(value: str, *, method: str, target: str) -> Grant | None:
    """The grant in ``value`` if it is ours, fresh, and for this method and target."""
    try:
        payload = signing.loads(value, key=_key(), salt=_SALT, max_age=GRANT_MAX_AGE_SECONDS)
        grant = Grant(
            device_id=str(payload["device_id"]),
            user_id=int(payload["user_id"]),
            slot_id=str(payload["slot_id"]),
            method=str(payload["method"]),
            target=str(payload["target"]),
            language=str(payload["language"]),
            request_id=str(payload["request_id"]),
            site_headers=[(str(n), str(v)) for n, v in payload["site_headers"]],
            error_headers=[(str(n), str(v)) for n, v in payload["error_headers"]],
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if grant.method != method or grant.target != target:
        return None
    return grant


def _key() -> str:
    if not settings.RELAY_INTERNAL_SECRET:
        raise signing.BadSignature("no relay secret")
    return settings.RELAY_INTERNAL_SECRET
