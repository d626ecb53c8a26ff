"""The ONNX pre-flight in the upload proxy: the model part is scanned as it passes.

The rewriter (``upload_stream``) hands the model part's bytes to ``UploadPreflight``
through its per-part observer hook and holds the part's last piece until the scan's
verdict: a blocker (not ONNX, a custom-domain operator, an unsupported opset…) ends
the upload with a 400 before the converter has the whole form, so no job exists.
Warnings (operators on the CPU, dynamic shapes…) are kept with the job.

The scan and its rules are the client distribution's (``visiona_client.preflight``),
the same code as ``visiona check``; this module words the findings for the pages.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from visiona_client import preflight

from conversion.upload_policy import MODEL_FIELD, PLATFORM_FIELD
from visiona.errors import ValidationFailed

logger = logging.getLogger(__name__)


class ModelRefused(ValidationFailed):
    """400 validation_failed on the model field, with the pre-flight report in details."""

    message = gettext_lazy("This model cannot be converted.")


class UploadPreflight:
    """One upload's pre-flight: observes the model part, refuses it or keeps warnings."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}  # the form's small fields, as the rewriter reads them
        self.summary: preflight.OnnxSummary | None = None
        self._scanner: preflight.Scanner | None = None

    def observer_for(self, name: str, filename: str) -> UploadPreflight | None:
        if name != MODEL_FIELD:
            return None
        self._scanner = preflight.Scanner()
        return self

    def _active_scanner(self) -> preflight.Scanner:
        # The rewriter feeds only the observer that observer_for returned, so a
        # missing scanner is a bug in the caller, not a bad upload.
        if self._scanner is None:
            raise RuntimeError("UploadPreflight fed before observer_for() chose the model part")
        return self._scanner

    def feed(self, data: bytes) -> None:
        self._active_scanner().feed(data)

    def finish(self) -> None:
        self.summary = self._active_scanner().finish()
        found = preflight.blockers(self.summary)
        if not found:
            return
        report = preflight.check(self.summary, _chip_or_none(self.fields.get(PLATFORM_FIELD)))
        logger.info(
            "upload refused by the pre-flight",
            extra={"codes": [finding.code for finding in found], "bytes": self.summary.size_bytes},
        )
        reason = " ".join(finding_text(finding.to_dict()) for finding in found)
        raise ModelRefused(
            _("This model cannot be converted: %(reason)s") % {"reason": reason},
            details={
                "fields": [{"field": MODEL_FIELD, "message": reason}],
                "preflight": report.to_dict(),
            },
        )

    def warnings(self, platform: str | None) -> list[dict]:
        """The warnings to store with the job (English messages, codes and details)."""
        if self.summary is None:
            return []
        report = preflight.check(self.summary, _chip_or_none(platform))
        return [finding.to_dict() for finding in report.warnings]


def _chip_or_none(platform: str | None) -> str | None:
    try:
        return "KL" + preflight.chip_code(platform) if platform else None
    except ValueError:
        return None


def finding_text(finding: dict) -> str:
    """A finding in the user's language; its own (English) message if the code is new."""
    details = finding.get("details") or {}
    wording = _WORDING.get(finding.get("code", ""))
    if wording is None:
        return str(finding.get("message", ""))
    try:
        return wording(details)
    except (KeyError, TypeError, ValueError):
        return str(finding.get("message", ""))


def _operators(details: dict) -> str:
    return ", ".join(f"{row['domain']}::{row['op_type']}" for row in details["operators"])


def _opset(details: dict) -> str:
    low, high = details["supported"]
    if details.get("opset") is None:
        return _(
            "It declares no ONNX opset; Kneron's toolchain needs opset %(min)s to %(max)s."
        ) % {
            "min": low,
            "max": high,
        }
    return _(
        "It uses ONNX opset %(opset)s; Kneron's toolchain converts opsets %(min)s to %(max)s. "
        "Export it again with an opset in that range."
    ) % {"opset": details["opset"], "min": low, "max": high}


def _mib(value: int) -> int:
    return round(value / (1024 * 1024))


_WORDING = {
    "lfs_pointer": lambda d: _(
        "This is a Git LFS pointer, not the model. Run “git lfs pull” and choose the real file."
    ),
    "not_onnx": lambda d: _("This file is not an ONNX model."),
    "custom_domain": lambda d: (
        _(
            "It uses operators from a custom domain, which Kneron's toolchain cannot convert: "
            "%(operators)s."
        )
        % {"operators": _operators(d)}
    ),
    "opset_unsupported": _opset,
    "external_data": lambda d: _(
        "It keeps its weights in separate external data files; upload a model saved as a "
        "single file."
    ),
    "multiple_inputs": lambda d: (
        _("It has %(count)s inputs (%(names)s); the toolchain converts models with one input.")
        % {"count": d["count"], "names": ", ".join(d["inputs"])}
    ),
    "cpu_operator": lambda d: (
        _("%(operator)s runs on the chip's CPU, not its NPU (nodes: %(count)s).")
        % {"operator": d["op_type"], "count": d["count"]}
    ),
    "unlisted_operator": lambda d: (
        _(
            "%(operator)s is not in Kneron's operator table for this chip: it may run on "
            "the CPU or fail to convert (nodes: %(count)s)."
        )
        % {"operator": d["op_type"], "count": d["count"]}
    ),
    "dynamic_shape": lambda d: (
        _("Input %(name)s has a dynamic or unknown shape; the toolchain needs a fixed input shape.")
        % {"name": d["input"]}
    ),
    "batch_size": lambda d: (
        _("Input %(name)s has batch size %(batch)s; the chip runs one image at a time.")
        % {"name": d["input"], "batch": d["batch"]}
    ),
    "near_nef_cap": lambda d: (
        _(
            "The weights come to about %(size)s MiB once quantized, near or over the "
            "%(cap)s MiB working cap for this chip's NEF."
        )
        % {"size": _mib(d["estimated_nef_bytes"]), "cap": _mib(d["cap_bytes"])}
    ),
}


def warnings_for_display(stored: list) -> list[dict]:
    """The job's stored warnings, worded for the page or the API: code, message, and
    Kneron's condition note (English, as Kneron publishes it) when there is one."""
    shown = []
    for finding in stored or []:
        if not isinstance(finding, dict):
            continue
        details = finding.get("details") or {}
        note = details.get("note_text") if details.get("note_text") not in (None, "-") else ""
        shown.append(
            {
                "code": str(finding.get("code", "")),
                "message": finding_text(finding),
                "note": note or "",
                "details": details,
            }
        )
    return shown
