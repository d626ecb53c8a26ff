"""A model's reference: the original (float) ONNX its NEF was made from, kept beside
it so runs on a device can be compared with it (docs/runs.md).

Saved from a conversion ("Save to My models" keeping the ONNX, conversion's promote of
the ``onnx`` source) or uploaded on the model page. One per model: a new one replaces
the old, whose file is removed after the row points at the new one.

What still needs it is known to the apps above the repository, which say so through
``models_repo/registry.py`` (``register_reference_needs``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import PurePosixPath

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from models_repo.errors import ModelFileTooLarge, invalid_field
from models_repo.models import NefModel
from models_repo.storage import (
    FileTooLarge,
    delete_stored_file,
    model_file_name,
    store_stream,
)
from models_repo.transfer import attachment_response

logger = logging.getLogger(__name__)

ONNX_EXTENSION = ".onnx"


def reference_check_name(*, filename: str) -> str:
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    if not base.lower().endswith(ONNX_EXTENSION) or len(base) <= len(ONNX_EXTENSION):
        raise invalid_field("file", _("Choose the .onnx file the model was converted from."))
    return base


def model_reference_store(*, model: NefModel, filename: str, chunks: Iterable[bytes]) -> NefModel:
    """Store the ONNX (streamed, hashed on the way) as the model's reference."""
    filename = reference_check_name(filename=filename)
    limit = settings.MODELS_MAX_REFERENCE_BYTES
    try:
        stored_name, size, sha256 = store_stream(
            model_file_name(owner_id=model.owner_id, filename=filename, default="model.onnx"),
            chunks,
            max_bytes=limit,
        )
    except FileTooLarge:
        raise ModelFileTooLarge(limit_bytes=limit) from None
    if size == 0:
        delete_stored_file(stored_name)
        raise invalid_field("file", _("The file is empty."))
    try:
        with transaction.atomic():
            current = NefModel.objects.select_for_update().get(pk=model.pk)
            old = current.reference_file.name
            current.reference_file = stored_name
            current.reference_size_bytes = size
            current.reference_sha256 = sha256
            current.reference_added_at = timezone.now()
            current.save(
                update_fields=[
                    "reference_file",
                    "reference_size_bytes",
                    "reference_sha256",
                    "reference_added_at",
                    "updated_at",
                ]
            )
    except BaseException:
        delete_stored_file(stored_name)
        raise
    if old:
        transaction.on_commit(lambda: delete_stored_file(old))
    logger.info("model reference stored", extra={"model_id": model.pk, "size_bytes": size})
    return current


def model_reference_delete(*, model: NefModel) -> NefModel:
    old = model.reference_file.name
    if not old:
        return model
    NefModel.objects.filter(pk=model.pk).update(
        reference_file="", reference_size_bytes=None, reference_sha256="", reference_added_at=None
    )
    transaction.on_commit(lambda: delete_stored_file(old))
    model.refresh_from_db()
    return model


def reference_response(request: HttpRequest, model: NefModel) -> HttpResponseBase:
    """The reference ONNX as ``<name>.onnx``: sent by nginx, the bucket or the app
    (``models_repo.transfer.attachment_response``)."""
    stem = "".join("_" if c in '/\\"' or ord(c) < 32 else c for c in model.name).strip()
    return attachment_response(
        request,
        name=model.reference_file.name or "",
        filename=f"{stem or 'model'}{ONNX_EXTENSION}",
        size=model.reference_size_bytes or 0,
        log_extra={"model_id": model.pk},
    )
