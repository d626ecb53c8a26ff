"""The reference agent's side of the agent API: one small HTTP client.

Used by ``manage.py run_agent`` (demos, tests). A real agent speaks the same
three calls: pair once with a code, then heartbeat with the token.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_TIMEOUT_SECONDS = 10.0


def agent_command_line(*, server_url: str, code: str, serial: str = "<serial>") -> str:
    """The command a user runs on the device to pair it with ``code``."""
    server = shlex.quote(server_url.rstrip("/"))
    serial_argument = serial if serial == "<serial>" else shlex.quote(serial)
    return (
        f"python manage.py run_agent --server {server} --code {shlex.quote(code)} "
        f"--serial {serial_argument}"
    )


class AgentApiError(Exception):
    """Any failure talking to the server. ``code`` is the envelope's code when there is one."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Pairing:
    device_id: str
    token: str
    heartbeat_interval_seconds: int


class AgentClient:
    def __init__(
        self,
        server_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = server_url.rstrip("/") + "/api/agent/"
        self.timeout = timeout
        self.session = session or requests.Session()
        self.token: str | None = None

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.session.request(
                method, self.base_url + path, json=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise AgentApiError(f"cannot reach the server: {exc.__class__.__name__}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code >= 400:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise AgentApiError(
                error.get("message") or f"HTTP {response.status_code}",
                status=response.status_code,
                code=error.get("code", ""),
            )
        return payload

    def pair(
        self, *, code: str, serial: str, chip: str, name: str = "", agent_version: str = ""
    ) -> Pairing:
        body = {
            "code": code,
            "serial": serial,
            "chip": chip,
            "name": name,
            "agent_version": agent_version,
        }
        payload = self._call("POST", "pair", body)
        self.token = payload["token"]
        return Pairing(
            device_id=payload["device_id"],
            token=payload["token"],
            heartbeat_interval_seconds=int(payload.get("heartbeat_interval_seconds") or 30),
        )

    def heartbeat(self, *, status: str = "ready", agent_version: str = "") -> dict[str, Any]:
        return self._call("POST", "heartbeat", {"status": status, "agent_version": agent_version})

    def me(self) -> dict[str, Any]:
        return self._call("GET", "me")
