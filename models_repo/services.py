"""Writes to the models repository."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction

from models_repo.choices import ModelSource
from models_repo.models import ModelPlatform, NefModel
from models_repo.storage import delete_stored_file, model_file_name, store_stream

logger = logging.getLogger(__name__)


def model_create_from_stream(
    *,
    owner,
    name: str,
    chips: Sequence[str],
    source: ModelSource,
    filename: str,
    chunks: Iterable[bytes],
    description: str = "",
    faa_object_key: str = "",
    source_job=None,
    max_bytes: int | None = None,
) -> NefModel:
    """Store the file (streamed, hashed on the way), then create the record.

    The file is written first and removed again if the record cannot be
    created, so a failure never leaves a record without a file or the reverse.
    Raises IntegrityError on a duplicate live name or source job.
    """
    stored_name, size, sha256 = store_stream(
        model_file_name(owner_id=owner.pk, filename=filename), chunks, max_bytes=max_bytes
    )
    try:
        with transaction.atomic():
            model = NefModel.objects.create(
                owner=owner,
                name=name,
                description=description,
                source=source,
                file=stored_name,
                size_bytes=size,
                sha256=sha256,
                faa_object_key=faa_object_key,
                source_job=source_job,
            )
            ModelPlatform.objects.bulk_create(
                ModelPlatform(model=model, chip=chip) for chip in sorted(set(chips))
            )
    except BaseException:
        delete_stored_file(stored_name)
        raise
    logger.info(
        "model stored",
        extra={"model_id": model.pk, "size_bytes": size, "source": str(source)},
    )
    return model


def model_available_name(*, owner, wanted: str) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``… if a live model already has it."""
    taken = set(
        NefModel.objects.live()
        .filter(owner=owner, name__startswith=wanted)
        .values_list("name", flat=True)
    )
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted} ({number})" in taken:
        number += 1
    return f"{wanted} ({number})"
