"""The one JSON shape of a model in My models: the models API's and the answer of
saving a conversion (``POST /api/conversion/{job_id}/promote-to-models``)."""

from __future__ import annotations

from rest_framework import serializers

from models_repo.choices import ChipSource
from models_repo.models import NefModel
from visiona.chips import Chip


class ModelOutputSerializer(serializers.ModelSerializer):
    chips = serializers.ListField(
        child=serializers.ChoiceField(choices=Chip.choices), read_only=True
    )
    source_reference = serializers.CharField(
        read_only=True,
        help_text="Its source's id for it: for a converted model, the conversion job id; "
        "empty for an upload.",
    )
    source_label = serializers.CharField(
        read_only=True, help_text="What it was made from, e.g. the ONNX file's name."
    )
    chip_source = serializers.ChoiceField(
        choices=ChipSource.choices,
        read_only=True,
        help_text="Where the chips come from: header (read from the NEF's header), "
        "conversion (the chip its conversion compiled it for) or user (the uploader's "
        "choice, not checked against the file: its header names no chip visionA reads, or "
        "the chips were edited).",
    )
    chip_source_display = serializers.CharField(
        source="get_chip_source_display",
        read_only=True,
        help_text="chip_source in words, in the request's language.",
    )
    has_reference = serializers.BooleanField(
        read_only=True,
        help_text="Whether the original ONNX is kept beside it (runs compare with it).",
    )

    class Meta:
        model = NefModel
        fields = [
            "id",
            "name",
            "description",
            "chips",
            "chip_source",
            "chip_source_display",
            "source",
            "source_reference",
            "source_label",
            "has_reference",
            "size_bytes",
            "sha256",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
