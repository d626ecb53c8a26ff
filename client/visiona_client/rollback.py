"""A rollback on the device: bring back the model visionA names, without a download
when a verified copy is here, and take off the model being undone.

visionA's work item of kind ``rollback`` names the model the device had before (its
id, name, sha256 and size: what the device must end up with) and, in
``rollback.remove``, the model to take off (or null). The model comes back from:

1. ``in_place``: its file is still installed and verifies (another model was added
   beside it, not over it): only the manifest's entry is relabelled;
2. ``kept_copy``: ``.previous/`` holds it (an install replaced it), and the copy's
   sha256, size and CRC-32 are the model's: it is installed again from there;
3. ``download``: neither (the copy is missing, or differs from what visionA says it
   must be): the model is downloaded again like any deployment.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from visiona_client.models_folder import ModelsFolder

if TYPE_CHECKING:
    from visiona_client.deployment_job import WorkItem

logger = logging.getLogger(__name__)

IN_PLACE, KEPT_COPY, DOWNLOAD = "in_place", "kept_copy", "download"


def restore_locally(models: ModelsFolder, item: WorkItem) -> str | None:
    """``in_place`` or ``kept_copy`` once the model is back; None: it must be downloaded.

    Raises InstallError when the disk refuses.
    """
    entry = models.installed_copy(model_id=item.model_id, sha256=item.sha256, size=item.size)
    if entry is not None:
        models.relabel(entry["file"], deployment_id=item.id)
        logger.info("rollback %s: %s is still in place", item.id, entry["file"])
        return IN_PLACE
    kept = models.kept_copy(sha256=item.sha256, size=item.size)
    if kept is None:
        logger.info("rollback %s: no verified copy kept here; downloading", item.id)
        return None
    installed = models.install(
        models.stage_copy(kept, item.id),
        name=item.name,
        model_id=item.model_id,
        sha256=item.sha256,
        deployment_id=item.id,
    )
    logger.info("rollback %s: restored %s from %s", item.id, installed["file"], kept)
    return KEPT_COPY


def take_off(models: ModelsFolder, remove: dict[str, Any] | None) -> None:
    if not remove:
        return
    gone = models.take_off(model_id=remove["model_id"], sha256=remove["sha256"])
    if gone:
        logger.info("rollback: took %s off (kept in .previous/)", ", ".join(gone))
