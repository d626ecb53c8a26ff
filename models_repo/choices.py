from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelSource(models.TextChoices):
    CONVERTED = "converted", _("Converted")
    UPLOADED = "uploaded", _("Uploaded")
