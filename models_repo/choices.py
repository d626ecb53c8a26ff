from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelSource(models.TextChoices):
    CONVERTED = "converted", _("Converted")
    UPLOADED = "uploaded", _("Uploaded")


class ChipSource(models.TextChoices):
    """Where a model's chips come from: read from the file, known from the conversion
    that compiled it, or the user's word (a header visionA does not read, or an edit)."""

    HEADER = "header", _("Read from the NEF's header")
    CONVERSION = "conversion", _("The chip its conversion compiled it for")
    USER = "user", _("As you chose them, not checked against the file")
