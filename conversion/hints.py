"""What a failed conversion's page says: the stage's label, a summary in the user's
language by the converter's error code (its own message, in English, goes beside it),
and what to try next, by code or stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversion.choices import JobStage, JobStatus
from conversion.errors import JobLost

if TYPE_CHECKING:
    from conversion.models import ConversionJob

# A job cancelled by its user ends as failed with this code (the converter's, and
# the sandbox's): a choice, not a failure, so no stage's advice applies to it.
CANCELLED_CODE = "cancelled"
# How the pages show such a job: its own grey badge, not a red Failed.
CANCELLED_STATUS = "cancelled"
CANCELLED_LABEL = _("Cancelled")

# The converter's job error codes (the sandbox fails with the same ones).
_SUMMARY_BY_CODE = {
    CANCELLED_CODE: _("The conversion was cancelled before it finished."),
    "onnx_invalid": _(
        "The converter could not read the ONNX model, or it uses operators the chip "
        "does not support."
    ),
    "quantization_failed": _("Quantization failed: the model could not be converted to BIE."),
    "compile_failed": _("Compilation failed: the model could not be compiled to NEF."),
    JobLost.code: JobLost.message,
}

# Advice only: the summary above it has already said what failed.
_BY_STAGE = {
    "onnx": _(
        "Check that the model opens in a viewer such as Netron, uses operators the chip "
        "supports, and has fixed input dimensions (export with a static batch size)."
    ),
    "bie": _(
        "Use reference images that look like real inputs (same camera, lighting and "
        "size); 20 to 100 varied images usually work best."
    ),
    "nef": _(
        "Check that the model fits the chosen chip, or try a smaller input size. If it "
        "keeps failing, contact support with the job id."
    ),
}

_GENERIC = _("Try again; if it fails the same way, contact support with the job id.")

_BY_CODE = {
    "job_lost": _("Start the conversion again with the same files."),
}


def is_cancelled(job: ConversionJob) -> bool:
    return job.status == JobStatus.FAILED and job.error_code == CANCELLED_CODE


def status_shown(job: ConversionJob) -> tuple[str, str]:
    """The status badge's value (its CSS class) and words: the converter's status, except
    that a cancelled job, which the converter ends as failed, reads Cancelled."""
    if is_cancelled(job):
        return CANCELLED_STATUS, str(CANCELLED_LABEL)
    return job.status, job.get_status_display()


def failure_hint(job: ConversionJob) -> str:
    """What to try next; empty for a cancelled job (nothing went wrong)."""
    if is_cancelled(job):
        return ""
    if job.error_code in _BY_CODE:
        return str(_BY_CODE[job.error_code])
    return str(_BY_STAGE.get(job.error_stage or job.stage, _GENERIC))


def stage_label(stage: str) -> str:
    """The stage's name in the user's language; an unknown stage as it came."""
    return str(JobStage(stage).label) if stage in JobStage.values else stage


def failure_summary(job: ConversionJob) -> str:
    """One sentence in the user's language: by the converter's code, else by the stage."""
    if job.error_code in _SUMMARY_BY_CODE:
        return str(_SUMMARY_BY_CODE[job.error_code])
    stage = job.error_stage or job.stage
    if stage:
        return gettext("The conversion failed during this stage: %(stage)s.") % {
            "stage": stage_label(stage)
        }
    return gettext("The conversion failed.")


def converter_message(job: ConversionJob) -> str:
    """The converter's own words, when they add to the summary (never our own text twice):
    not for a lost job (our words), a cancelled one (the user's choice, already said), or
    when they are the summary's English."""
    if job.error_code == JobLost.code or is_cancelled(job):
        return ""
    summary = _SUMMARY_BY_CODE.get(job.error_code)
    if summary is not None:
        with translation.override("en"):
            english = str(summary)
        if _comparable(job.error_message) == _comparable(english):
            return ""
    return job.error_message


def _comparable(text: str) -> str:
    return " ".join(text.split()).rstrip(".").casefold()
