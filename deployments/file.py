"""A deployment's NEF file for its agent: streamed, with one byte range (RFC 9110 14).

``Range: bytes=N-``, ``bytes=N-M`` and ``bytes=-N`` (one range; several, or a
malformed header, are ignored and the whole file is sent, as RFC 9110 allows).
``If-Range`` with the ETag (``"<sha256>"``, strong) keeps the range; anything else
sends the whole file, so a resumed download never mixes two different files.
The file is read from the models storage in chunks; never whole in memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

from deployments.models import Deployment
from models_repo.errors import ModelFileUnavailable
from models_repo.storage import CHUNK, open_stored_file

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
UNSATISFIABLE = "unsatisfiable"


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
    """200 with the whole file, 206 with the range, or 416."""
    size = deployment.size_bytes
    etag = f'"{deployment.sha256}"'
    wanted = byte_range(request.headers.get("Range"), size)
    if wanted is not None and not _range_applies(request, etag):
        wanted = None
    if isinstance(wanted, str):  # UNSATISFIABLE
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return _common_headers(refused, etag)
    stored = _open(deployment)
    response: HttpResponseBase
    if wanted is None:
        # FileResponse states the Content-Length from the file itself.
        response = FileResponse(stored, content_type="application/octet-stream")
    else:
        first, last = wanted
        stored.seek(first)
        if last == size - 1:
            # To the end: a FileResponse (the server may use sendfile from here).
            response = FileResponse(stored, status=206, content_type="application/octet-stream")
        else:
            response = StreamingHttpResponse(
                _chunks(stored, last - first + 1),
                status=206,
                content_type="application/octet-stream",
            )
            response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    if "Content-Disposition" in response:
        del response["Content-Disposition"]
    return _common_headers(response, etag)


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
            chunk = stored.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stored.close()
