"""Model files over HTTP, for the pages and the API alike: the upload size
limit, and the streamed download."""

from __future__ import annotations

import base64
import logging

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from models_repo import offload
from models_repo.errors import ModelFileUnavailable
from models_repo.models import NefModel
from models_repo.services import model_download_name
from models_repo.storage import models_storage, open_stored_file
from visiona.upload_tmp import sweep_now_and_then

logger = logging.getLogger(__name__)

TOO_LARGE_ATTRIBUTE = "model_upload_too_large"
TOO_LARGE_NAME_ATTRIBUTE = "model_upload_too_large_name"
MODEL_CONTENT_TYPE = "application/octet-stream"


class UploadSizeLimitHandler(FileUploadHandler):
    """Django spools an uploaded file to a temporary file while it parses the
    request, before any view can look at its size. This handler runs first in
    the chain: past the limit it skips the file (Django reads the rest of the
    body and throws it away, and deletes the temporary file) and marks the
    request, so the view answers "too large" rather than "no file"."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            setattr(self.request, TOO_LARGE_ATTRIBUTE, True)
            if not hasattr(self.request, TOO_LARGE_NAME_ATTRIBUTE):  # the first one named
                setattr(self.request, TOO_LARGE_NAME_ATTRIBUTE, self.file_name or "")
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def limit_upload_size(request: HttpRequest, limit: int | None = None) -> None:
    """Call before anything reads ``request.POST`` or ``request.FILES``."""
    sweep_now_and_then()  # files a killed process left in the upload folder
    request.upload_handlers.insert(
        0, UploadSizeLimitHandler(request, limit or settings.MODELS_MAX_UPLOAD_BYTES)
    )


def upload_was_too_large(request: HttpRequest) -> bool:
    return getattr(request, TOO_LARGE_ATTRIBUTE, False)


def too_large_upload_name(request: HttpRequest) -> str:
    """The file name of the first upload skipped for its size ("" when none was)."""
    return getattr(request, TOO_LARGE_NAME_ATTRIBUTE, "")


def model_file_response(request: HttpRequest, model: NefModel) -> HttpResponseBase:
    """The stored NEF, saved by the browser as ``<name>.nef``, with its Repr-Digest."""
    response = attachment_response(
        request,
        name=model.file.name or "",  # a row always has a file; "" fails as unreadable
        filename=model_download_name(model=model),
        size=model.size_bytes,
        log_extra={"model_id": model.pk},
    )
    if response.status_code == 200:
        # RFC 9530: lets a client check the bytes against the checksum it was shown.
        digest = base64.b64encode(bytes.fromhex(model.sha256)).decode()
        response["Repr-Digest"] = f"sha-256=:{digest}:"
    return response


def attachment_response(
    request: HttpRequest, *, name: str, filename: str, size: int, log_extra: dict
) -> HttpResponseBase:
    """The stored file ``name`` as an attachment called ``filename``: sent by nginx where
    it can (X-Accel-Redirect), from the bucket where the storage is S3 (a presigned 302),
    else streamed here in chunks. The headers are the same whoever sends the bytes."""
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    if offload.is_object_store():
        return offload.presigned_redirect(
            name, content_type=MODEL_CONTENT_TYPE, disposition=disposition
        )
    if offload.nginx_serves_files(request):
        if not models_storage.exists(name):
            # nginx's answer would be its 404: say what it is, as the streamed one does.
            logger.error("stored file missing", extra=log_extra)
            raise ModelFileUnavailable()
        response = offload.accel_redirect(name)
        response["Content-Type"] = MODEL_CONTENT_TYPE
        response["Content-Disposition"] = disposition
        return response
    try:
        stored = open_stored_file(name)
    except Exception as exc:  # a missing file, a full disk, an S3 error
        logger.exception("stored file unreadable", extra=log_extra)
        raise ModelFileUnavailable() from exc
    streamed = FileResponse(
        stored, as_attachment=True, filename=filename, content_type=MODEL_CONTENT_TYPE
    )
    streamed.headers.setdefault("Content-Length", str(size))
    return streamed
