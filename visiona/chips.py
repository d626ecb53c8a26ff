"""The Kneron chips visionA knows, shared by conversion, models and devices."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Chip(models.TextChoices):
    KL520 = "KL520", "KL520"
    KL720 = "KL720", "KL720"
    KL530 = "KL530", "KL530"
    KL630 = "KL630", "KL630"
    KL730 = "KL730", "KL730"

    @property
    def platform_code(self) -> str:
        """The converter's name for the chip: "KL720" -> "720"."""
        return self.value.removeprefix("KL")

    @classmethod
    def from_platform_code(cls, code: str) -> "Chip":
        return cls(f"KL{code}")


CHIP_DESCRIPTIONS = {
    Chip.KL520: _("Entry-level NPU for low-power vision: USB dongles and small cameras."),
    Chip.KL720: _("Mid-range NPU with more compute for multi-model vision and audio."),
    Chip.KL530: _("Compact NPU with a camera pipeline for smart-camera designs."),
    Chip.KL630: _("Vision SoC for surveillance cameras, with an on-chip NPU."),
    Chip.KL730: _("High-end vision SoC with the fastest NPU of the family."),
}
