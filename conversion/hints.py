"""What to try next when a conversion fails, by the converter's code or stage."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

_BY_STAGE = {
    "onnx": _(
        "The converter could not use the ONNX model. Check that it opens in a viewer such "
        "as Netron, uses operators the chip supports, and has fixed input dimensions "
        "(export with a static batch size)."
    ),
    "bie": _(
        "Quantization failed. Use reference images that look like real inputs (same "
        "camera, lighting and size); 20 to 100 varied images usually work best."
    ),
    "nef": _(
        "Compilation for the chip failed. Check that the model fits the chosen chip, or "
        "try a smaller input size. If it keeps failing, contact support with the job id."
    ),
}

_GENERIC = _("Try again; if it fails the same way, contact support with the job id.")

_BY_CODE = {
    "job_lost": _("Start the conversion again with the same files."),
}


def failure_hint(job) -> str:
    if job.error_code in _BY_CODE:
        return _BY_CODE[job.error_code]
    return _BY_STAGE.get(job.error_stage or job.stage, _GENERIC)
