"""visionA's agent API (``/api/agent/…``): pair, heartbeat, me, deployments.

Every call has a timeout. Every failure is one ServerError carrying the HTTP
status and the error envelope's ``code`` when visionA sent one, so callers
decide on those, never on message text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from visiona_client import __version__
from visiona_client.http_auth import session_without_netrc

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
USER_AGENT = f"visiona-agent/{__version__}"
# Statuses worth trying again later: the server or something in front of it is
# busy or down. Anything else in 4xx is an answer that a retry cannot change.
RETRYABLE_STATUSES = frozenset({408, 429})
# The device is not (or no longer) allowed in: revoked or expired token, unpaired device.
REFUSED_STATUSES = frozenset({401, 403, 404})
# A deployment's id is visionA's UUID: checked before it goes into a URL or a file name.
DEPLOYMENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# A download's answer may take this long between two reads before it counts as cut.
DOWNLOAD_TIMEOUT_SECONDS = (10.0, 30.0)
# Sent with a file request: this agent follows one presigned redirect to the models bucket
# (visionA's models_repo/offload.py). Without it visionA sends the bytes itself.
AGENT_ACCEPTS_HEADER = "X-Visiona-Agent-Accepts"
# What goes on to the bucket of the agent's own headers: the Range that resumes, and the
# identity encoding the byte count relies on. If-Range stays behind: visionA judged it
# before redirecting, a bucket ignores it, and the whole file's sha256 is checked at the end.
BUCKET_HEADERS = ("Range", "Accept-Encoding")
ERROR_MESSAGE_MAX_CHARS = 500


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
        self.session = session or session_without_netrc()
        # The bucket's own session: nothing of visionA's (cookies, default headers) on it.
        self.bucket_session = session_without_netrc()

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        url = f"{self.server_url}/api/agent/{path}"
        headers = self._headers("application/json")
        try:
            # No redirects: requests would turn a redirected POST into a GET, and a
            # token must not follow a redirect to somewhere else.
            response = self.session.request(
                method,
                url,
                json=body,
                headers=headers,
                timeout=timeout or self.timeout,
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

    # Deployments ---------------------------------------------------------------

    def deployments(self) -> list[dict[str, Any]]:
        """The device's unfinished deployments, oldest first (at most 20)."""
        payload = self._call("GET", "deployments")
        items = payload.get("deployments")
        if not isinstance(items, list):
            raise ServerError("visionA's deployments answer holds no list")
        return items

    def deployment_report(
        self,
        deployment_id: str,
        state: str,
        *,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        error_code: str = "",
        error_message: str = "",
        restored_from: str = "",
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """``POST deployments/<id>/state``; a 409 is a ServerError with its code."""
        body: dict[str, Any] = {"state": state}
        if restored_from:
            body["restored_from"] = restored_from
        if bytes_done is not None:
            body["bytes_done"] = bytes_done
        if bytes_total is not None:
            body["bytes_total"] = bytes_total
        if error_code:
            body["error_code"] = error_code
            body["error_message"] = error_message[:ERROR_MESSAGE_MAX_CHARS]
        return self._call(
            "POST", f"deployments/{_deployment_id(deployment_id)}/state", body, timeout=timeout
        )

    def download_url(self, url: str) -> str:
        """A work item's ``download_url`` as this agent fetches it: always from visionA.

        A root-relative URL is joined to the server's origin (as a browser would). An
        absolute one keeps only its path and query, on the server's own scheme, host and
        port: the device token never goes anywhere else (and a URL built with an
        internal host name behind a proxy still works).
        """
        parts = urlsplit(urljoin(self.server_url + "/", url))
        ours = urlsplit(self.server_url)
        if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
            logger.debug("download URL on %s: fetched from %s instead", parts.netloc, ours.netloc)
        query = f"?{parts.query}" if parts.query else ""
        return f"{ours.scheme}://{ours.netloc}{parts.path}{query}"

    def open_download(self, url: str, headers: dict[str, str]) -> requests.Response:
        """The file endpoint's answer, streamed, whatever its status (the caller decides).

        With its models in S3, visionA answers a redirect to the file's presigned URL in
        the bucket: followed once, with the Range and nothing that names the device (no
        token, no cookie), and the bucket's answer is returned with visionA's in its
        ``history``, as requests does. A redirect elsewhere than to an http(s) URL, or
        the bucket's own redirect, is returned as it is, not followed.

        ServerError when no answer came at all. The caller closes the response.
        """
        try:
            answer = self.session.get(
                self.download_url(url),
                headers={
                    **self._headers("application/octet-stream"),
                    AGENT_ACCEPTS_HEADER: "presigned",
                    **headers,
                },
                stream=True,
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ServerError(
                f"cannot download from visionA at {self.server_url} ({exc.__class__.__name__})"
            ) from None
        location = _bucket_location(answer)
        if location is None:
            return answer
        answer.close()
        kept = {name: value for name, value in headers.items() if name in BUCKET_HEADERS}
        try:
            bucket = self.bucket_session.get(
                location,
                headers={"User-Agent": USER_AGENT, **kept},
                stream=True,
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # An error the caller retries: visionA is asked again, for a new URL.
            host = urlsplit(location).netloc
            raise ServerError(
                f"cannot download from the bucket at {host} ({exc.__class__.__name__})"
            ) from None
        bucket.history = [answer]
        return bucket


def _bucket_location(answer: requests.Response) -> str | None:
    """The presigned URL visionA's redirect names, or None: not a redirect, or one to
    something else than an absolute http(s) URL without user name or password."""
    if not answer.is_redirect:
        return None
    location = answer.headers.get("Location", "")
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        logger.warning("visionA redirected the download to a URL that is not http(s)")
        return None
    if parts.username or parts.password:
        return None  # requests would send those as credentials
    return location


def _deployment_id(value: str) -> str:
    if not DEPLOYMENT_ID.match(str(value)):
        raise ValueError(f"not a deployment id: {value!r}")
    return quote(str(value), safe="")


# Runs (docs/runs.md) ---------------------------------------------------------------


class RunApi:
    """The agent's run endpoints, on a ServerApi's session, token and errors."""

    def __init__(self, api: ServerApi) -> None:
        self.api = api

    def runs(self) -> list[dict[str, Any]]:
        """The device's unfinished runs, oldest first (at most 20)."""
        items = self.api._call("GET", "runs").get("runs")
        if not isinstance(items, list):
            raise ServerError("visionA's runs answer holds no list")
        return items

    def report(
        self, run_id: str, state: str, *, error_code: str = "", error_message: str = ""
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"state": state}
        if error_code:
            body["error_code"] = error_code
            body["error_message"] = error_message[:ERROR_MESSAGE_MAX_CHARS]
        return self.api._call("POST", f"runs/{_deployment_id(run_id)}/state", body)

    def open_input(self, run_id: str, index: int) -> requests.Response:
        """One input's file, streamed; ServerError unless it is a 200."""
        url = f"{self.api.server_url}/api/agent/runs/{_deployment_id(run_id)}/inputs/{int(index)}"
        response = self._send("GET", url, headers=self.api._headers("*/*"), stream=True)
        if response.status_code != 200:
            with response:
                raise _error_of(response)
        return response

    def send_result(
        self, run_id: str, index: int, *, body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        """One input's outputs (an ``.npz`` body) or its error (a JSON body)."""
        url = (
            f"{self.api.server_url}/api/agent/runs/{_deployment_id(run_id)}"
            f"/inputs/{int(index)}/result"
        )
        response = self._send(
            "POST", url, headers={**self.api._headers("application/json"), **headers}, data=body
        )
        with response:
            if response.status_code >= 400:
                raise _error_of(response)
            try:
                answer = response.json()
            except ValueError:
                raise ServerError("visionA's result answer is not JSON") from None
        if not isinstance(answer, dict):
            raise ServerError("visionA's result answer is not a JSON object")
        return answer

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.api.session.request(
                method, url, timeout=DOWNLOAD_TIMEOUT_SECONDS, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            raise ServerError(
                f"cannot reach visionA at {self.api.server_url} ({exc.__class__.__name__})"
            ) from None


def _error_of(response: requests.Response) -> ServerError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    return ServerError(
        str(error.get("message") or f"visionA answered HTTP {response.status_code}"),
        status=response.status_code,
        code=str(error.get("code") or ""),
    )
