"""Before a long upload, the refusals visionA would answer only once it has the whole
body, asked first with a small request: the token lacks a scope the command needs
(``GET /api/auth/me``), or the user already has a conversion running or another upload
still streaming (``GET /api/conversion/active``). Each is raised as visionA's own refusal (message,
code, exit code), so the user learns it at once and the same way.

visionA's checks stay the authority: a job started elsewhere in between is still
refused after the upload. A check that cannot be made (a moment's failure, an older
server) is skipped, and the upload goes on for visionA to decide.
"""

from __future__ import annotations

from collections.abc import Sequence

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError

# A check is cheap or skipped: it never holds the command up long.
CHECK_TIMEOUT = 10.0
TOKENS_PAGE = "/tokens/"
# The server's words (tokens/errors.py, conversion/errors.py), in English as the CLI is.
SCOPE_MISSING = (
    "This API token lacks the “{scope}” scope this needs. Create a token with “{scope}” "
    "ticked on the API tokens page ({url}) and use it instead: a token's scopes cannot "
    "be changed."
)
ACTIVE_JOB = "You already have a conversion in progress. Wait for it to finish first."
UPLOAD_IN_PROGRESS = "You are already uploading a model. Wait for that upload to finish first."
_ACTIVE_JOB_FIELDS = ("job_id", "status", "stage", "progress", "created_at")


def require_scopes(api: Api, needed: Sequence[str]) -> list[str] | None:
    """The token's scopes, once each of ``needed`` is among them (None: not known).
    A token visionA refuses (invalid, expired, revoked) is refused here already."""
    try:
        me = api.get_json("/api/auth/me", timeout=CHECK_TIMEOUT)
    except CliError as error:
        if error.exit_code == exit_codes.AUTH:
            raise
        return None
    granted = me.get("scopes")
    if not isinstance(granted, list):
        return None
    for scope in needed:
        if scope not in granted:
            tokens_url = api.url(TOKENS_PAGE)
            raise CliError(
                SCOPE_MISSING.format(scope=scope, url=tokens_url),
                exit_code=exit_codes.AUTH,
                code="token_scope_missing",
                status=403,
                details={"required": scope, "granted": granted, "tokens_url": tokens_url},
            )
    return [str(scope) for scope in granted]


def require_no_active_conversion(api: Api) -> None:
    """Refuse as visionA would when the user already has an unfinished conversion, or
    another upload still streaming (an older server does not say it: then the upload
    learns it)."""
    try:
        active = api.get_json("/api/conversion/active", timeout=CHECK_TIMEOUT)
    except CliError as error:
        if error.code == "conversion_disabled":
            raise  # the upload's answer too, before any other
        return
    job = active.get("job")
    if isinstance(job, dict) and job.get("job_id"):
        raise CliError(
            ACTIVE_JOB,
            exit_code=exit_codes.FAILURE,
            code="active_job_exists",
            status=409,
            details={"active_job": {name: job.get(name) for name in _ACTIVE_JOB_FIELDS}},
        )
    if active.get("upload_in_progress") is True:
        raise CliError(
            UPLOAD_IN_PROGRESS, exit_code=exit_codes.FAILURE, code="upload_in_progress", status=409
        )


def check_conversion_upload(api: Api, *, scopes: Sequence[str]) -> None:
    """Before ``convert`` uploads: the scopes the whole command needs, then no running job
    (asked only when the token may read: the answer needs ``read``)."""
    granted = require_scopes(api, scopes)
    if granted is None or "read" in granted:
        require_no_active_conversion(api)
