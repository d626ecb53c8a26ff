"""The conversion upload: a streamed multipart body (requests-toolbelt's
MultipartEncoder reads each file in blocks as it is sent, never whole) and its
monitor driving the progress bar."""

from __future__ import annotations

import contextlib
import mimetypes
from pathlib import Path
from typing import Any, BinaryIO

from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from visiona_client.visiona_cli.api import UPLOAD_TIMEOUT, Api
from visiona_client.visiona_cli.output import Output

UPLOAD_PATH = "/api/conversion/init"


def upload_conversion(
    api: Api,
    output: Output,
    *,
    platform: str,
    model: Path,
    images: list[Path],
    model_id: int | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """POST the form to /api/conversion/init; the created job (JSON)."""
    with contextlib.ExitStack() as files:
        fields: list[tuple[str, object]] = [("platform", platform)]
        if model_id is not None:
            fields.append(("model_id", str(model_id)))
        if version:
            fields.append(("version", version))
        fields.append(("model", _part(files, model, "application/octet-stream")))
        for image in images:
            kind = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
            fields.append(("ref_images", _part(files, image, kind)))
        encoder = MultipartEncoder(fields=fields)
        progress = output.progress(f"Uploading {model.name}", encoder.len)
        monitor = MultipartEncoderMonitor(encoder, lambda m: progress.update(m.bytes_read))
        try:
            response = api.request(
                "POST",
                UPLOAD_PATH,
                data=monitor,
                headers={"Content-Type": monitor.content_type},
                timeout=UPLOAD_TIMEOUT,
            )
        finally:
            progress.finish()
    return api._json(response)


def _part(
    files: contextlib.ExitStack[bool | None], path: Path, content_type: str
) -> tuple[str, BinaryIO, str]:
    return (path.name, files.enter_context(path.open("rb")), content_type)
