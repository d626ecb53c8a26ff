"""visionA's user API with a personal token: every failure is one ``CliError``
with the exit code it stands for, the envelope's ``code`` and its message."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from visiona_client import __version__
from visiona_client.http_auth import session_without_netrc
from visiona_client.visiona_cli import exit_codes

USER_AGENT = f"visiona-cli/{__version__}"
TIMEOUT_SECONDS = 30.0
# Uploads stream a large body: the connect timeout stays short, the read one is long
# (the converter answers once it has the whole upload).
UPLOAD_TIMEOUT = (10.0, 600.0)
# urllib3 sends a streamed body in blocks of this size (its default is 16 KiB). With the
# allocator keeping large blocks (visiona_client.allocator, set by entry_point) a 1 MiB
# block is reused, not a fresh mapping to fault in; and requests-toolbelt's encoder
# spends most of its time on bookkeeping per read (six fstat calls), so fewer reads win.
SEND_BLOCK_SIZE = 1 << 20

_BAD_INPUT_STATUSES = frozenset({400, 404, 405, 411, 413, 415, 422})
_AUTH_STATUSES = frozenset({401, 403})


class CliError(Exception):
    def __init__(
        self,
        message: str,
        *,
        exit_code: int = exit_codes.FAILURE,
        code: str = "",
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code
        self.status = status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code or "cli_error",
            "message": self.message,
            "status": self.status,
            "details": self.details,
            "exit_code": self.exit_code,
        }


def outcome_error(
    code: str,
    message: str,
    *,
    exit_code: int = exit_codes.FAILURE,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``error`` of a command whose work ended badly (a job, deployment or run that
    failed, an expectation not met): the shape of a refusal's, so that a script checks
    ``.error`` once, whatever went wrong."""
    return CliError(message, exit_code=exit_code, code=code, details=details).to_dict()


def exit_code_for_status(status: int) -> int:
    if status in _AUTH_STATUSES:
        return exit_codes.AUTH
    if status in _BAD_INPUT_STATUSES:
        return exit_codes.BAD_INPUT
    if status >= 500 or status == 429:
        return exit_codes.SERVER
    return exit_codes.FAILURE


def error_from_response(response: requests.Response) -> CliError:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or f"visionA answered HTTP {response.status_code}")
    return CliError(
        message,
        exit_code=exit_code_for_status(response.status_code),
        code=str(error.get("code") or ""),
        status=response.status_code,
        details=error.get("details") if isinstance(error.get("details"), dict) else {},
    )


class _BigBlocks(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blocksize", SEND_BLOCK_SIZE)
        super().init_poolmanager(*args, **kwargs)


class Api:
    """A session with ``Authorization: Bearer <token>`` for one server."""

    def __init__(self, server: str, token: str) -> None:
        if not server:
            raise CliError(
                "No server: run `visiona login --server URL` or set VISIONA_SERVER.",
                exit_code=exit_codes.AUTH,
                code="not_logged_in",
            )
        if not token:
            raise CliError(
                "No token: run `visiona login` or set VISIONA_TOKEN.",
                exit_code=exit_codes.AUTH,
                code="not_logged_in",
            )
        self.server = server.rstrip("/") + "/"
        self.http = session_without_netrc()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.headers["User-Agent"] = USER_AGENT
        self.http.mount("http://", _BigBlocks())
        self.http.mount("https://", _BigBlocks())

    def url(self, path: str) -> str:
        return urljoin(self.server, path.lstrip("/"))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        url = path if path.startswith(("http://", "https://")) else self.url(path)
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.ReadTimeout:
            # Reached, but no answer in time: not the same as a server that is not there.
            timeout = kwargs["timeout"]
            seconds = timeout[1] if isinstance(timeout, tuple) else timeout
            raise CliError(
                f"{self.server} did not answer within {seconds:g} s (ReadTimeout).",
                exit_code=exit_codes.SERVER,
                code="network_error",
            ) from None
        except requests.RequestException as exc:
            raise CliError(
                f"Could not reach {self.server} ({exc.__class__.__name__}).",
                exit_code=exit_codes.SERVER,
                code="network_error",
            ) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._json(self.request("GET", path, **kwargs))

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        return self._json(self.request("POST", path, json=body, **kwargs))

    def patch_json(self, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        return self._json(self.request("PATCH", path, json=body, **kwargs))

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        """The answer's JSON object: every operation the CLI calls answers one."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CliError(
                f"visionA answered something that is not JSON (HTTP {response.status_code}).",
                exit_code=exit_codes.SERVER,
                code="not_json",
            )
        return body
