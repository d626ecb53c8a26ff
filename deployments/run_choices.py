"""Enumerations for runs (docs/runs.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from visiona_client.inference_contract import DEMO_RUNTIME


class RunState(models.TextChoices):
    PENDING = "pending", _("Waiting for the device")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def unfinished(cls) -> tuple[str, ...]:
        return (cls.PENDING, cls.RUNNING)

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.COMPLETED, cls.FAILED, cls.CANCELLED})


class RunInputState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReferenceState(models.TextChoices):
    """Where the comparison with the original ONNX is (computed by the background worker)."""

    NONE = "none", _("No original ONNX")
    PENDING = "pending", _("Waiting for the worker")
    COMPUTING = "computing", _("Computing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# The run page's words for the device's preprocessing scale (the contract's values).
SCALE_LABELS = {
    "unit": _("0 to 1 (pixel / 255)"),
    "byte": _("0 to 255 (as it is)"),
    "signed": _("-1 to 1"),
}


def runtime_label(runtime: str) -> str:
    """Where a run ran, for people. The device names it (``X-Inference-Runtime``) and the
    API keeps its words; the page says in the reader's language that the demo's figures
    are a CPU's, not a chip's. Any other runtime (a chip's) is shown as the device says."""
    if runtime == DEMO_RUNTIME:
        return str(_("demo device, CPU (not a Kneron chip)"))
    return runtime
