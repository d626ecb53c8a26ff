"""Writes to the models repository."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from models_repo import nef
from models_repo.choices import ChipSource, ModelSource
from models_repo.errors import (
    ModelAlreadyStored,
    ModelFileTooLarge,
    ModelNameTaken,
    invalid_field,
)
from models_repo.models import NAME_MAX_LENGTH, ModelPlatform, NefModel
from models_repo.storage import (
    CHUNK,
    FileTooLarge,
    delete_stored_file,
    model_file_name,
    store_stream,
)
from visiona.chips import Chip
from visiona.file_names import shorten_file_name
from visiona.models import User

logger = logging.getLogger(__name__)


def model_create_from_stream(
    *,
    owner: User,
    name: str,
    chips: Sequence[str],
    source: ModelSource,
    filename: str,
    chunks: Iterable[bytes],
    description: str = "",
    faa_object_key: str = "",
    source_reference: str = "",
    source_label: str = "",
    on_created: Callable[[NefModel], None] | None = None,
    max_bytes: int | None = None,
    refuse_duplicate: bool = False,
    chip_source: ChipSource = ChipSource.USER,
) -> NefModel:
    """Store the file (streamed, hashed on the way), then create the record.

    The file is written first and removed again if the record cannot be
    created, so a failure never leaves a record without a file or the reverse.
    ``on_created`` runs in the record's transaction: the caller links the new
    model to what it came from there, and whatever it raises undoes the record
    and removes the file. Raises IntegrityError on a duplicate live name, and with
    ``refuse_duplicate`` ModelAlreadyStored when the owner already has these bytes
    (known once they are hashed on their way to storage, so removed again).
    ``chip_source`` says whether ``chips`` were read from the file, known from the
    conversion that compiled it, or are the user's word.
    """
    stored_name, size, sha256 = store_stream(
        model_file_name(owner_id=owner.pk, filename=filename), chunks, max_bytes=max_bytes
    )
    if refuse_duplicate:
        existing = NefModel.objects.live().filter(owner=owner, sha256=sha256).first()
        if existing is not None:
            delete_stored_file(stored_name)
            url = reverse("models-detail", args=[existing.pk])
            raise ModelAlreadyStored(model=existing, url=url)
    try:
        with transaction.atomic():
            model = NefModel.objects.create(
                owner=owner,
                name=name,
                description=description,
                source=source,
                chip_source=chip_source,
                file=stored_name,
                size_bytes=size,
                sha256=sha256,
                faa_object_key=faa_object_key,
                source_reference=source_reference[:128],
                source_label=shorten_file_name(source_label, max_chars=255),
            )
            ModelPlatform.objects.bulk_create(
                ModelPlatform(model=model, chip=chip) for chip in sorted(set(chips))
            )
            if on_created is not None:
                on_created(model)
    except BaseException:
        delete_stored_file(stored_name)
        raise
    logger.info(
        "model stored",
        extra={"model_id": model.pk, "size_bytes": size, "source": str(source)},
    )
    return model


def model_available_name(*, owner: User, wanted: str, exclude_pk: int | None = None) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``… if a live model already has it."""
    wanted = wanted[:NAME_MAX_LENGTH]
    base = wanted[: NAME_MAX_LENGTH - 8]  # room for " (9999)" within the column
    candidates = NefModel.objects.live().filter(owner=owner, name__startswith=base)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    taken = set(candidates.values_list("name", flat=True))
    if wanted not in taken:
        return wanted
    number = 2
    while f"{base} ({number})" in taken:
        number += 1
    return f"{base} ({number})"


# --- Uploads, edits, deletion ---------------------------------------------------

NEF_EXTENSION = ".nef"


def model_upload(
    *,
    owner: User,
    upload: UploadedFile,
    chips: Iterable[str],
    name: str = "",
    description: str = "",
) -> NefModel:
    """Add a NEF the user already has. Read in chunks from Django's upload (a
    temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE), so memory stays flat.

    Every refusal happens before anything is stored, or removes what was.
    """
    limit = settings.MODELS_MAX_UPLOAD_BYTES
    filename = model_upload_check_file(upload=upload)
    chips = _clean_chips(chips)
    chip_source = nef.check_chips(upload, chips)
    # Named after a file whose name is longer than a model's may be: cut to fit, not refused.
    name = _clean_name(name or filename[: -len(NEF_EXTENSION)][:NAME_MAX_LENGTH])
    _require_free_name(owner=owner, name=name)
    try:
        return model_create_from_stream(
            owner=owner,
            name=name,
            chips=chips,
            source=ModelSource.UPLOADED,
            filename=filename,
            # Refused at the end if its CRC-32 is wrong, before any record exists.
            chunks=nef.checked_chunks(upload.chunks(CHUNK)),
            description=description.strip(),
            max_bytes=limit,
            refuse_duplicate=True,
            chip_source=chip_source,
        )
    except IntegrityError:
        # Another request took the name between the check and the insert.
        raise ModelNameTaken() from None
    except FileTooLarge:
        raise ModelFileTooLarge(limit_bytes=limit) from None


def model_upload_check_file(*, upload: UploadedFile) -> str:
    """The upload's base file name, if it is a non-empty .nef within the limit."""
    limit = settings.MODELS_MAX_UPLOAD_BYTES
    filename = PurePosixPath((upload.name or "").replace("\\", "/")).name
    if not filename.lower().endswith(NEF_EXTENSION) or len(filename) <= len(NEF_EXTENSION):
        raise invalid_field("file", _("Choose a .nef file (a model compiled for Kneron chips)."))
    if not upload.size:
        raise invalid_field("file", _("The file is empty."))
    if upload.size > limit:
        raise ModelFileTooLarge(limit_bytes=limit)
    return filename


def model_update(
    *,
    model: NefModel,
    name: str | None = None,
    description: str | None = None,
    chips: Iterable[str] | None = None,
) -> NefModel:
    """Rename, describe or retarget a model. ``created_at`` never changes.

    A model whose chip was read from its header keeps that chip: other chips are
    refused. Other models' new chips are the user's word from then on.
    """
    changes: dict[str, str] = {}
    if name is not None and _clean_name(name) != model.name:
        changes["name"] = _clean_name(name)
        _require_free_name(owner=model.owner, name=changes["name"], exclude_pk=model.pk)
    if description is not None and description.strip() != model.description:
        changes["description"] = description.strip()
    new_chips = _clean_chips(chips) if chips is not None else None
    if new_chips is not None and new_chips != model.chips:
        if model.chip_source == ChipSource.HEADER:
            raise nef.header_contradicted(model.chips[0])
        changes["chip_source"] = ChipSource.USER
    original = (model.name, model.description, model.chip_source)
    fields = list(changes)
    for field, value in changes.items():
        setattr(model, field, value)
    try:
        with transaction.atomic():
            if fields:
                model.save(update_fields=[*fields, "updated_at"])
            if new_chips is not None and new_chips != model.chips:
                model.platforms.all().delete()
                ModelPlatform.objects.bulk_create(
                    ModelPlatform(model=model, chip=chip) for chip in new_chips
                )
                if not fields:
                    model.save(update_fields=["updated_at"])
    except IntegrityError:
        model.name, model.description, model.chip_source = original
        raise ModelNameTaken() from None
    # The chips prefetched with the model are stale now.
    getattr(model, "_prefetched_objects_cache", {}).pop("platforms", None)
    return model


def model_delete(*, model: NefModel) -> None:
    """Soft delete: the model leaves every list and frees its name; the file stays
    so an administrator can restore it."""
    if model.deleted_at is None:
        model.deleted_at = timezone.now()
        model.save(update_fields=["deleted_at", "updated_at"])
        logger.info("model deleted", extra={"model_id": model.pk})


def model_restore(*, model: NefModel, name: str | None = None) -> NefModel:
    """Bring a deleted model back, under ``name`` if given (else its old one), renamed
    ``name (2)`` if that name is taken meanwhile.

    The one way a deleted model comes back: the admin's restore, and saving again
    what was saved as this model (a conversion saved twice). A live model is
    returned as it is. The row is locked while it is renamed, so two restores at
    once bring it back once, under one name.
    """
    if model.deleted_at is None:
        return model
    restored = False
    try:
        with transaction.atomic():
            current = NefModel.objects.select_for_update().get(pk=model.pk)
            if current.deleted_at is not None:
                current.name = model_available_name(
                    owner=current.owner, wanted=(name or current.name)[:200], exclude_pk=current.pk
                )
                current.deleted_at = None
                current.save(update_fields=["name", "deleted_at", "updated_at"])
                restored = True
    except IntegrityError:
        # Another request took the name between the check and the write.
        raise ModelNameTaken() from None
    model.name, model.deleted_at, model.updated_at = (
        current.name,
        current.deleted_at,
        current.updated_at,
    )
    if restored:
        logger.info("model restored", extra={"model_id": model.pk})
    return model


def model_download_name(*, model: NefModel) -> str:
    """``<name>.nef``, without a doubled extension or path separators."""
    stem = model.name
    if stem.lower().endswith(NEF_EXTENSION):
        stem = stem[: -len(NEF_EXTENSION)]
    stem = "".join("_" if char in '/\\"' or ord(char) < 32 else char for char in stem).strip()
    return f"{stem or 'model'}{NEF_EXTENSION}"


def _clean_name(name: str) -> str:
    name = " ".join(name.split())  # no leading, trailing or doubled whitespace
    if not name:
        raise invalid_field("name", _("Give the model a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise invalid_field("name", _("Keep the name under 200 characters."))
    return name


def _clean_chips(chips: Iterable[str]) -> list[str]:
    cleaned = sorted(set(chips))
    if not cleaned:
        raise invalid_field("chips", _("Choose at least one chip the model runs on."))
    if not set(cleaned) <= set(Chip.values):
        raise invalid_field("chips", _("Choose chips from the list."))
    return cleaned


def _require_free_name(*, owner: User, name: str, exclude_pk: int | None = None) -> None:
    """A friendly refusal before writing; the database constraint still decides races."""
    taken = NefModel.objects.live().filter(owner=owner, name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ModelNameTaken()
