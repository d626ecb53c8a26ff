from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    CREATED = "created", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


UNFINISHED_STATUSES = (JobStatus.CREATED, JobStatus.RUNNING)


class JobStage(models.TextChoices):
    ONNX = "onnx", _("ONNX check")
    BIE = "bie", _("Quantization (BIE)")
    NEF = "nef", _("Compilation (NEF)")
