"""A deployment's NEF file for its agent: streamed, with one byte range (RFC 9110 14).

``Range: bytes=N-``, ``bytes=N-M`` and ``bytes=-N`` (one range; several, or a
malformed header, are ignored and the whole file is sent, as RFC 9110 allows).
``If-Range`` with the ETag (``"<sha256>"``, strong) keeps the range; anything else
sends the whole file, so a resumed download never mixes two different files.
The file is read from the models storage in chunks, never whole in memory, sent by
nginx in front, or, for an agent that follows one, from the bucket after a presigned
redirect (``models_repo.offload``, docs/streams.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from deployments import download_slots
from deployments.models import Deployment
from models_repo import offload
from models_repo.errors import ModelFileUnavailable
from models_repo.storage import CHUNK, models_storage, open_stored_file

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
UNSATISFIABLE = "unsatisfiable"
CONTENT_TYPE = "application/octet-stream"


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(first, last)`` inclusive, ``UNSATISFIABLE``, or None (send the whole file)."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)


def _range_applies(request: HttpRequest, etag: str) -> bool:
    condition = request.headers.get("If-Range")
    return condition is None or condition.strip() == etag


def file_response(request: HttpRequest, deployment: Deployment) -> HttpResponseBase:
    """200 with the whole file, 206 with the range, 416, or 302 to the bucket.

    The app decides which (the range, If-Range against the sha256 ETag); an nginx in
    front that reads the models folder then sends the bytes (X-Accel-Redirect to its
    location for one range, or the whole file: nginx's own If-Range check would compare
    its own validators, so the app hands it only a range it already decided for).
    With S3 storage, an agent that says it follows a presigned redirect gets one, where
    the bucket answers its Range as the app would (``_bucket_agrees``).
    Otherwise the app streams, at most DEPLOYMENT_DOWNLOADS_PER_DEVICE at once.
    """
    size = deployment.size_bytes
    etag = f'"{deployment.sha256}"'
    wanted = byte_range(request.headers.get("Range"), size)
    if wanted is not None and not _range_applies(request, etag):
        wanted = None
    if isinstance(wanted, str):  # UNSATISFIABLE
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return _common_headers(refused, etag)
    if offload.nginx_serves_files(request):
        return _common_headers(_offloaded(request, deployment, wanted), etag)
    if offload.agent_follows_presigned(request) and _bucket_agrees(request, wanted):
        # No download slot: no web thread is held, the bucket sends every byte.
        return offload.presigned_redirect(
            deployment.model.file.name or "", content_type=CONTENT_TYPE, disposition=None
        )
    slot = download_slots.take(device_id=str(deployment.device_id))
    try:
        response = _streamed(deployment, wanted, slot)
    except BaseException:
        slot.release()
        raise
    return _common_headers(response, etag)


def _bucket_agrees(request: HttpRequest, wanted) -> bool:
    """The bucket, given the same Range, sends what the app decided: no Range (the whole
    file), or one range the app found applies. The bucket ignores If-Range and parses
    Range by its own rules, so a malformed or refused one (If-Range of another file:
    the whole file) is streamed here as for any agent. The object behind a model's name
    is written once, and the agent checks the whole file's sha256 in the end."""
    if wanted is None:
        return not request.headers.get("Range")
    return True


def _offloaded(request: HttpRequest, deployment: Deployment, wanted) -> HttpResponse:
    name = deployment.model.file.name or ""
    if not models_storage.exists(name):
        logger.error("stored model file missing", extra={"deployment_id": str(deployment.pk)})
        raise ModelFileUnavailable()
    # nginx applies the client's Range itself: only where the app decided it applies.
    ranged = wanted is not None
    response = offload.accel_redirect(name, ranged=ranged)
    response["Content-Type"] = CONTENT_TYPE
    return response


def _streamed(deployment: Deployment, wanted, slot) -> StreamingHttpResponse:
    size = deployment.size_bytes
    stored = _open(deployment)
    if wanted is None:
        response = StreamingHttpResponse(
            slot.keep(_chunks(stored, size)), content_type=CONTENT_TYPE
        )
        response["Content-Length"] = str(size)
        return response
    first, last = wanted
    stored.seek(first)
    response = StreamingHttpResponse(
        slot.keep(_chunks(stored, last - first + 1)), status=206, content_type=CONTENT_TYPE
    )
    response["Content-Length"] = str(last - first + 1)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


def _common_headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _open(deployment: Deployment):
    try:
        return open_stored_file(deployment.model.file.name or "")
    except Exception as exc:  # a missing file, a full disk, an S3 error
        logger.exception(
            "stored model file unreadable", extra={"deployment_id": str(deployment.pk)}
        )
        raise ModelFileUnavailable() from exc


def _chunks(stored, length: int) -> Iterator[bytes]:
    try:
        remaining = length
        while remaining > 0:
            try:
                chunk = stored.read(min(CHUNK, remaining))
            except Exception as exc:  # a disk or S3 failure mid-file
                logger.exception("stored model file unreadable")
                raise ModelFileUnavailable() from exc
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stored.close()
