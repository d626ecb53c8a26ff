"""The Kneron converter's task scheduler (``/api/v1``).

Every path, field name and error code of the converter lives here, and every
answer is mapped onto ``conversion.errors``: callers never see an upstream
status, body or exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

import requests
from django.conf import settings

from conversion.clients import budget, errors, http, member_center
from conversion.clients.converter_job import STAGES, JobAnswer, JobSnapshot, percent, text_value
from conversion.clients.errors import BudgetExhausted

__all__ = ["STAGES", "JobAnswer", "JobSnapshot", "cancel_job", "create_job", "get_job", "health"]

JOBS_PATH = "/api/v1/jobs"
JOB_PATH = "/api/v1/jobs/{job_id}"
PROMOTE_PATH = "/api/v1/jobs/{job_id}/promote"
HEALTH_PATH = "/health"
# The in-progress list's next page: the cursor it answered, sent back as this parameter.
CURSOR_PARAM = "cursor"
MAX_LIST_PAGES = 50
HEALTH_STATES = ("healthy", "degraded", "unhealthy")


# Timeouts (connect, read) and retry schedules: docs/conversion.md ("Upstream clients").
UPLOAD_TIMEOUT = (10, 30 * 60)
PROMOTE_TIMEOUT = (10, 5 * 60)
GET_BACKOFF = (0.5, 1)
PROMOTE_BACKOFF = (0.5, 1)
LIST_BACKOFF = (0.5,)


# --- Calls ---------------------------------------------------------------------


def _url(path: str) -> str:
    return settings.CONVERTER_BASE_URL.rstrip("/") + path


class _Body:
    """Wraps the upload generator so its own exception survives ``requests``.

    When the browser's stream breaks or the form turns out malformed, the
    generator raises; requests/urllib3 may wrap that in a connection error
    while dropping the connection (which is what aborts the upstream upload).
    We re-raise the original, so the user learns what really happened.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except GeneratorExit:
            raise
        except BaseException as exc:
            self.error = exc
            raise


def create_job(*, body: Iterable[bytes], content_type: str) -> JobSnapshot:
    """Stream a multipart form to the converter. Never retried: it can't be replayed."""
    wrapped = _Body(body)
    token = member_center.bearer(member_center.SCOPE_JOB_WRITE)
    headers = {"Content-Type": content_type, **token.authorization}
    try:
        response = http.call(
            "POST",
            _url(JOBS_PATH),
            service="converter",
            endpoint=JOBS_PATH,
            timeout=UPLOAD_TIMEOUT,
            data=iter(wrapped),
            headers=headers,
            **_budget_hooks(budget.USER),
        )
    except http.UpstreamUnreachable:
        if wrapped.error is not None:
            raise wrapped.error from None
        raise errors.ConverterUnavailable() from None
    except BudgetExhausted as exc:
        raise errors.ConverterBusy(headers=exc.headers) from None
    if wrapped.error is not None:
        # The converter answered before we finished sending (it may have
        # rejected early); what broke on our side is the real story.
        raise wrapped.error
    if response.status_code in member_center.REFUSED_STATUSES:
        # Dropped, so the next upload carries a new token; this one cannot be replayed.
        if member_center.drop_refused_token(token, status=response.status_code):
            raise errors.CredentialsRefused()
        raise errors.UploadNotAccepted()
    if response.status_code not in (200, 201):
        _fail(response)
    return JobSnapshot.from_json(http.json_or_none(response))


def get_job(job_id: str, *, etag: str = "", priority: str = budget.USER) -> JobAnswer:
    """One job; with ``etag``, a conditional request (None snapshot: unchanged).

    A background lookup the budget has no room for raises ``BudgetExhausted``.
    """
    path = JOB_PATH.format(job_id=quote(job_id, safe=""))
    headers = {"If-None-Match": etag} if etag else {}
    response = _read(
        path, job_id=job_id, backoff=GET_BACKOFF, priority=priority, headers=headers, ok=(200, 304)
    )
    new_etag = response.headers.get("ETag", "")[:128]
    if response.status_code == 304:
        return JobAnswer(None, new_etag or etag)
    snapshot = JobSnapshot.from_json(http.json_or_none(response))
    if snapshot.job_id != job_id:
        raise errors.ConverterUnavailable()
    return JobAnswer(snapshot, new_etag)


def list_in_progress(*, user_id: str) -> list[JobSnapshot]:
    """The user's unfinished jobs (the recovery list), every page of it."""
    found: list[JobSnapshot] = []
    params = {"user_id": user_id, "status": "in_progress"}
    for _page in range(MAX_LIST_PAGES):
        response = _read(JOBS_PATH, backoff=LIST_BACKOFF, params=params)
        body = http.json_or_none(response)
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if not isinstance(jobs, list):
            raise errors.ConverterUnavailable()
        found += [JobSnapshot.from_json(job) for job in jobs]
        cursor = body.get("next_cursor")
        if not isinstance(cursor, str | int) or isinstance(cursor, bool) or cursor == "":
            return found
        params = {**params, CURSOR_PARAM: str(cursor)}
    http.logger.warning("converter in-progress list: page limit reached")
    return found


def cancel_job(job_id: str, *, priority: str = budget.USER) -> None:
    """Ask the converter to cancel the job: ``CancelNotSupported`` where it answers 501."""
    path = JOB_PATH.format(job_id=quote(job_id, safe=""))
    response = _authorized_call(
        "DELETE",
        path,
        scope=member_center.SCOPE_JOB_WRITE,
        endpoint=JOB_PATH,
        job_id=job_id,
        priority=priority,
    )
    if response.status_code in (200, 202, 204):
        return
    if response.status_code == 501:
        raise errors.CancelNotSupported()
    if response.status_code == 409:
        raise errors.JobNotCancellable()
    _fail(response)


def health() -> str:
    """The converter's own health (public, no token, not counted in the budget):
    healthy / degraded / unhealthy, or "unreachable" when it gives no answer."""
    try:
        response = http.call(
            "GET", _url(HEALTH_PATH), service="converter", endpoint=HEALTH_PATH, timeout=(2, 3)
        )
    except http.UpstreamUnreachable:
        return "unreachable"
    body = http.json_or_none(response)
    status = body.get("status") if isinstance(body, dict) else None
    if status in HEALTH_STATES:
        return status
    return "unhealthy" if response.status_code >= 500 else "unreachable"


def promote(job_id: str, *, user_id: str, target_object_key: str, source: str = "nef") -> dict:
    """Copy the job's NEF (or its source ``onnx``) into FAA under ``target_object_key``."""
    path = PROMOTE_PATH.format(job_id=quote(job_id, safe=""))
    payload = {
        "targets": [{"source": source, "target_object_key": target_object_key}],
        "user_id": user_id,
    }
    response = _authorized_call(
        "POST",
        path,
        scope=member_center.SCOPE_JOB_WRITE,
        endpoint=PROMOTE_PATH,
        job_id=job_id,
        backoff=PROMOTE_BACKOFF,
        timeout=PROMOTE_TIMEOUT,
        json=payload,
    )
    if response.status_code != 200:
        _fail(response)
    body = http.json_or_none(response)
    promoted = body.get("promoted") if isinstance(body, dict) else None
    if not isinstance(promoted, list) or not promoted or not isinstance(promoted[0], dict):
        raise errors.ConverterUnavailable()
    return promoted[0]


def _read(
    path: str,
    *,
    backoff,
    job_id: str | None = None,
    priority: str = budget.USER,
    ok: tuple[int, ...] = (200,),
    **kwargs,
) -> requests.Response:
    response = _authorized_call(
        "GET",
        path,
        scope=member_center.SCOPE_JOB_READ,
        endpoint=JOB_PATH if job_id else path,
        job_id=job_id,
        backoff=backoff,
        priority=priority,
        **kwargs,
    )
    if response.status_code not in ok:
        _fail(response)
    return response


def _budget_hooks(priority: str) -> dict:
    def before_attempt() -> None:
        if not budget.take(priority):
            raise BudgetExhausted(retry_after=budget.retry_after_seconds())

    def after_answer(response: requests.Response) -> None:
        budget.observe(response.status_code, response.headers)

    return {"before_attempt": before_attempt, "after_answer": after_answer}


def _authorized_call(
    method: str, path: str, *, priority: str = budget.USER, **kwargs
) -> requests.Response:
    """A converter ``/api/v1`` call within the shared budget. A background call the
    budget has no room for raises ``BudgetExhausted``; a user's is ``service_busy``."""
    try:
        return member_center.call_with_service_token(
            method, _url(path), service="converter", **_budget_hooks(priority), **kwargs
        )
    except http.UpstreamUnreachable:
        raise errors.ConverterUnavailable() from None
    except BudgetExhausted as exc:
        if priority == budget.BACKGROUND:
            raise
        raise errors.ConverterBusy(headers=exc.headers) from None


# Converter error code → our error, where the status alone does not decide.
_CONFLICTS: dict[str, type[errors.ClientError]] = {
    "job_not_ready_for_promote": errors.JobNotReady,
    "source_not_available": errors.SourceNotAvailable,
}


def _fail(response: requests.Response) -> None:
    """Raise the visionA error for a converter answer that is not a success.

    A refused token (401/403) reaches here only once a new token was refused
    too (``call_with_service_token``): our own credentials are wrong.
    """
    status = response.status_code
    code = http.error_code(response)
    details = http.error_details(response)
    if status in (400, 422):
        raise errors.InvalidRequest(details={"fields": _field_errors(details)})
    if status in member_center.REFUSED_STATUSES:
        raise errors.CredentialsRefused()
    if status == 404:
        raise errors.JobNotFound()
    elif status == 409 and code == "user_has_active_job":
        raise errors.UserHasActiveJob(details={"active_job": _active_job(details)})
    elif status == 409 and code in _CONFLICTS:
        raise _CONFLICTS[code]()
    elif status == 413:
        raise errors.FileTooLarge()
    elif status == 429 or (status == 503 and code == "service_busy"):
        raise errors.ConverterBusy(headers={"Retry-After": http.retry_after(response)})
    elif status == 502 and code in ("storage_unavailable", "file_gateway_unavailable"):
        raise errors.FaaUnavailable()
    elif status >= 500 and code == "auth_service_unavailable":
        # The converter could not reach Member Center (to check our token, or to get the
        # promote's FAA token), whichever 5xx it put it in: Member Center's outage.
        raise errors.TokenServiceUnavailable()
    http.logger.error("converter answered an error", extra={"status": status, "code": code})
    raise errors.ConverterUnavailable()


def _field_errors(details: dict) -> list[dict[str, str]]:
    # The converter's per-field messages help the developer fix the form; they
    # are short validation texts, passed on as details, never as our message.
    fields = details.get("fields")
    out = []
    for item in fields if isinstance(fields, list) else []:
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            message = item.get("message")
            out.append(
                {
                    "field": item["field"][:64],
                    "message": message[:300] if isinstance(message, str) else "",
                }
            )
    return out[:20]


def _active_job(details: dict) -> dict:
    return {
        "job_id": text_value(details.get("active_job_id")),
        "status": text_value(details.get("active_job_status")),
        "stage": text_value(details.get("active_job_stage")),
        "progress": percent(details.get("active_job_progress")),
        "created_at": text_value(details.get("active_job_created_at")),
    }
