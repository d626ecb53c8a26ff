"""How the internal port answers, for each kind of caller.

- ``WebCaller``: a web instance with the shared secret (the streamed path). It gets
  the device's answer nearly as it came (Django applies devices/relay_answer.py
  and its own middleware) and errors as ``X-Relay-Error`` envelopes it maps to its
  own translated errors.
- ``UserCaller``: nginx with a grant (``X-Visiona-Offload: relay``): the answer goes to
  the user's client as it is, so here it gets what Django would have given it:
  the device's headers under devices/relay_answer.py's rules, the headers the web
  stack gave the handoff (from the grant), and errors in the API's envelope, in
  the user's language, with the request id.

In both, an impossible status or a malformed header from the device never reaches
h11 (which would refuse to write it): 502 ``device_bad_answer`` or dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import translation

from devices import errors, relay_answer
from devices.relay_grant import Grant

_ERRORS: dict[str, type[errors.AppError]] = {
    error.code: error
    for error in (
        errors.DeviceOffline,
        errors.DeviceUnreachable,
        errors.DeviceTimeout,
        errors.RelayBodyTooLarge,
        errors.DeviceBadAnswer,
    )
}
_PLAIN = {
    "not_found": "The relay has no such path.",
    "bad_request": "The relay could not read this request.",
}
# Kept from the device for the web instance, which applies the rules itself.
_NOT_FOR_THE_WEB = relay_answer.HOP_BY_HOP | {"content-length"}
# What the site's headers say about our own JSON errors, not about a device's answer.
_SITE_ONLY = frozenset({"allow", "content-type", "content-security-policy"})
Headers = list[tuple[bytes, bytes]]


def _encoded(headers: list[tuple[str, str]]) -> Headers:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _text(headers: Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def error_message(code: str, language: str) -> str:
    if code in _PLAIN:
        return _PLAIN[code]
    with translation.override(language):
        return str(_ERRORS[code].message)


def _envelope(code: str, request_id: str, language: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": error_message(code, language),
            "details": {},
            "request_id": request_id,
        }
    }


class WebCaller:
    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.language = "en"

    def error(self, code: str) -> tuple[dict[str, Any], Headers]:
        return _envelope(code, self.request_id, self.language), [
            (relay_answer.ERROR_HEADER.lower().encode(), code.encode())
        ]

    def answer_headers(self, device_headers: Headers, *, device_path: str) -> Headers:
        return [
            (name, value)
            for name, value in device_headers
            if not name.startswith(b":")
            and name.decode("latin-1").lower() not in _NOT_FOR_THE_WEB
            and relay_answer.is_valid_header(name.decode("latin-1"), value.decode("latin-1"))
        ]

    def finished(self) -> None:
        """The exchange ended (the web instance holds the slot, not this node)."""


class UserCaller:
    def __init__(self, grant: Grant, on_finish: Callable[[], None]) -> None:
        self.grant = grant
        self.request_id = grant.request_id
        self.language = grant.language
        self._on_finish = on_finish

    def error(self, code: str) -> tuple[dict[str, Any], Headers]:
        site = [
            (name, value)
            for name, value in self.grant.site_headers
            if name.lower() not in {"content-type", "content-length"}
        ]
        return _envelope(code, self.request_id, self.language), _encoded(
            [("Content-Type", "application/json"), *self.grant.error_headers, *site]
        )

    def answer_headers(self, device_headers: Headers, *, device_path: str) -> Headers:
        headers = relay_answer.with_policy(
            relay_answer.returned_headers(
                _text(device_headers), device_id=self.grant.device_id, device_path=device_path
            )
        )
        present = {name.lower() for name, _value in headers}
        for name, value in self.grant.site_headers:
            lowered = name.lower()
            if lowered in _SITE_ONLY:
                continue
            if lowered == "vary":
                device_vary = next((v for n, v in headers if n.lower() == "vary"), "")
                headers = [(n, v) for n, v in headers if n.lower() != "vary"]
                headers.append((name, relay_answer.merged_vary(device_vary, value)))
            elif lowered not in present:
                headers.append((name, value))
        return _encoded(headers)

    def finished(self) -> None:
        self._on_finish()
