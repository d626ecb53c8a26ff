"""A run's inputs as they arrive in a multipart request (the API's and the page's):
every file to a temporary file on disk, never to memory whatever its size, and one
over the per-input limit skipped and noted (``upload_was_too_large``). The whole
request is refused from its ``Content-Length`` before anything is read."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from deployments.run_services import inputs_too_large
from models_repo.transfer import UploadSizeLimitHandler
from visiona.upload_tmp import TemporaryFileHandler

# The multipart's own bytes (boundaries, headers, fields) on top of the inputs' limit.
FORM_OVERHEAD = 1024 * 1024


def files_to_disk(request: HttpRequest) -> None:
    """Call before anything reads the body (the CSRF check does)."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > settings.RUNS_MAX_TOTAL_BYTES + FORM_OVERHEAD:
        raise inputs_too_large()
    request.upload_handlers = [
        UploadSizeLimitHandler(request, settings.RUNS_MAX_INPUT_BYTES),
        TemporaryFileHandler(request),
    ]
