from typing import Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from models_repo.choices import ChipSource, ModelSource
from models_repo.storage import get_models_storage
from visiona.chips import Chip

# The name column's width; the services keep names (and the " (2)" of a renamed copy) within it.
NAME_MAX_LENGTH = 200


class LiveModelQuerySet(models.QuerySet["NefModel"]):
    def live(self) -> Self:
        return self.filter(deleted_at__isnull=True)


class NefModel(models.Model):
    """A NEF model in a user's repository ("My models")."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="nef_models",
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ModelSource.choices)
    # Whether the chips (ModelPlatform) are known from the file or taken on the user's word.
    chip_source = models.CharField(
        _("chips from"), max_length=16, choices=ChipSource.choices, default=ChipSource.USER
    )
    file = models.FileField(_("file"), max_length=500, storage=get_models_storage)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    faa_object_key = models.CharField(_("FAA object key"), max_length=512, blank=True)
    # Provenance, as data of its own: the repository knows nothing of how a model was
    # made. ``source_reference`` is the source's id for it (for a converted model, the
    # conversion job's id), ``source_label`` what to call it (the file it was made from).
    source_reference = models.CharField(_("source reference"), max_length=128, blank=True)
    source_label = models.CharField(_("source label"), max_length=255, blank=True)
    # The original (float) ONNX the NEF was made from, when the user keeps it: the
    # reference runs on a device are compared with (docs/runs.md). Empty when unknown.
    reference_file = models.FileField(
        _("reference ONNX"), max_length=500, storage=get_models_storage, blank=True
    )
    reference_size_bytes = models.BigIntegerField(
        _("reference size (bytes)"), null=True, blank=True
    )
    reference_sha256 = models.CharField(_("reference SHA-256"), max_length=64, blank=True)
    reference_added_at = models.DateTimeField(_("reference added"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = LiveModelQuerySet.as_manager()

    class Meta:
        verbose_name = _("model")
        verbose_name_plural = _("models")
        ordering = ["-created_at"]
        constraints = [
            # A deleted model's name may be reused: unique among live rows only.
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="models_repo_unique_live_name",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="models_repo_name_not_blank"),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0), name="models_repo_size_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="models_owner_created")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_live(self) -> bool:
        """Not deleted (a deleted model leaves every list and frees its name)."""
        return self.deleted_at is None

    @property
    def has_reference(self) -> bool:
        return bool(self.reference_file)

    @property
    def chips(self) -> list[str]:
        return sorted(platform.chip for platform in self.platforms.all())


class ModelPlatform(models.Model):
    """A chip a model runs on (a model may target several)."""

    model = models.ForeignKey(NefModel, on_delete=models.CASCADE, related_name="platforms")
    chip = models.CharField(_("chip"), max_length=8, choices=Chip.choices)

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        constraints = [
            models.UniqueConstraint(fields=["model", "chip"], name="models_repo_unique_platform")
        ]

    def __str__(self) -> str:
        return self.chip
