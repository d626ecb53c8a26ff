"""visionA's agent API (``/api/agent/…``): pair, heartbeat, me.

Every call has a timeout. Every failure is one ServerError carrying the HTTP
status and the error envelope's ``code`` when visionA sent one, so callers
decide on those, never on message text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from visiona_client import __version__

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
USER_AGENT = f"visiona-agent/{__version__}"
# Statuses worth trying again later: the server or something in front of it is
# busy or down. Anything else in 4xx is an answer that a retry cannot change.
RETRYABLE_STATUSES = frozenset({408, 429})
# The device is not (or no longer) allowed in: revoked or expired token, unpaired device.
REFUSED_STATUSES = frozenset({401, 403, 404})


class ServerError(Exception):
    """Any failure talking to visionA. ``status`` is None when no answer came at all."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        """A network error, a 5xx or a busy answer: try again after a backoff."""
        return self.status is None or self.status >= 500 or self.status in RETRYABLE_STATUSES

    @property
    def refused(self) -> bool:
        """visionA does not accept this device (any more): retrying will not help."""
        return self.status in REFUSED_STATUSES

    def __str__(self) -> str:
        detail = ", ".join(
            part for part in (f"HTTP {self.status}" if self.status else "", self.code) if part
        )
        return f"{self.message} ({detail})" if detail else self.message


@dataclass(frozen=True)
class Pairing:
    device_id: str
    token: str = field(repr=False)
    token_expires_at: str
    heartbeat_interval_seconds: int


def normalize_server_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; ValueError if it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"give the server's base URL only: {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class ServerApi:
    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.server_url = normalize_server_url(server_url)
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        url = f"{self.server_url}/api/agent/{path}"
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            # No redirects: requests would turn a redirected POST into a GET, and a
            # token must not follow a redirect to somewhere else.
            response = self.session.request(
                method,
                url,
                json=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise ServerError(f"visionA at {self.server_url} did not answer in time") from None
        except requests.RequestException as exc:
            raise ServerError(
                f"cannot reach visionA at {self.server_url} ({exc.__class__.__name__})"
            ) from None
        if response.is_redirect:
            raise ServerError(
                f"visionA answered with a redirect to {response.headers.get('Location', '?')}; "
                "give that address as --server",
                status=response.status_code,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            error = error if isinstance(error, dict) else {}
            raise ServerError(
                str(error.get("message") or f"visionA answered HTTP {response.status_code}"),
                status=response.status_code,
                code=str(error.get("code") or ""),
            )
        if not isinstance(payload, dict):
            raise ServerError(
                f"{url} did not answer JSON: is {self.server_url} a visionA server?",
                status=response.status_code,
            )
        return payload

    def pair(
        self, *, code: str, serial: str, chip: str, name: str = "", agent_version: str = ""
    ) -> Pairing:
        body = {"code": code, "serial": serial, "chip": chip, "name": name}
        body["agent_version"] = agent_version or USER_AGENT
        payload = self._call("POST", "pair", body)
        try:
            pairing = Pairing(
                device_id=str(payload["device_id"]),
                token=str(payload["token"]),
                token_expires_at=str(payload.get("token_expires_at") or ""),
                heartbeat_interval_seconds=int(payload.get("heartbeat_interval_seconds") or 30),
            )
        except (KeyError, TypeError, ValueError):
            raise ServerError("visionA's pairing answer is missing the device or token") from None
        self.token = pairing.token
        return pairing

    def heartbeat(self, *, status: str = "ready", agent_version: str = "") -> dict[str, Any]:
        return self._call(
            "POST", "heartbeat", {"status": status, "agent_version": agent_version or USER_AGENT}
        )

    def me(self) -> dict[str, Any]:
        return self._call("GET", "me")
