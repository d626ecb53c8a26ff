"""The conversion pages: convert, follow a job, history. Thin: services do the work."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from conversion import converter_status, hints, limits, preflight, sample, selectors, services
from conversion.choices import JobStage, JobStatus
from conversion.clients import conversion_enabled
from conversion.templatetags.conversion_format import duration_messages
from visiona.chips import CHIP_DESCRIPTIONS, Chip
from visiona.errors import AppError
from visiona.upload_progress import upload_progress_messages

HISTORY_PAGE_SIZE = 20
# What a screen reader hears after each stage's name (the stepper's hidden text).
STEP_STATES = {
    "done": gettext_lazy("done"),
    "current": gettext_lazy("in progress"),
    "failed": gettext_lazy("failed"),
    "cancelled": gettext_lazy("cancelled"),
    "pending": gettext_lazy("not started"),
}
POLL_INTERVAL_MS = 2000


@login_required
@require_GET
def convert_page(request):
    enabled = conversion_enabled()
    active, problem = None, None
    health = converter_status.health()
    if enabled:
        try:
            active = services.active_job_find(user=request.user)
        except AppError as exc:
            # The page still works; the upload itself will report the problem.
            problem = exc.message
    context = {
        "enabled": enabled,
        "active": active,
        "problem": problem,
        "converter_health": health,
        # The form is disabled, with the reason, before anyone uploads 500 MB in vain.
        "upload_blocked": converter_status.upload_blocked_reason(health),
        "degraded_note": converter_status.DEGRADED_NOTE if health["status"] == "degraded" else None,
        "chips": [(chip.value, chip.value, CHIP_DESCRIPTIONS[chip]) for chip in Chip],
        "default_chip": Chip.KL720.value,
        "limits": limits,
        "max_model_mib": limits.MAX_MODEL_BYTES // limits.MIB,
        "max_image_mib": limits.MAX_IMAGE_BYTES // limits.MIB,
        "page_data": _convert_page_data(),
        "sample": sample.sample_for_page(),
    }
    return render(request, "conversion/convert.html", context)


def _convert_page_data() -> dict:
    return {
        "initUrl": reverse("api-conversion-init"),
        "sample": sample.sample_for_page(),
        "jobUrlTemplate": reverse("conversion-job", args=["JOB_ID"]),
        "platforms": {chip.value: chip.platform_code for chip in Chip},
        "limits": {
            "maxModelBytes": limits.MAX_MODEL_BYTES,
            "maxImageBytes": limits.MAX_IMAGE_BYTES,
            "maxImages": limits.MAX_IMAGES,
            "modelExtensions": list(limits.MODEL_EXTENSIONS),
            "imageExtensions": list(limits.IMAGE_EXTENSIONS),
            "imageSignatures": [list(signature) for signature in limits.IMAGE_SIGNATURES],
            "minModelId": limits.MIN_USER_MODEL_ID,
            "maxModelId": limits.MAX_MODEL_ID,
            "versionPattern": limits.VERSION_PATTERN,
            "lfsPrefix": limits.LFS_POINTER_PREFIX,
        },
        "messages": {
            "chooseModel": _("Choose an ONNX model file."),
            "modelExtension": _("The model must be an .onnx file."),
            "modelTooLarge": _("The model is larger than %(limit)s.")
            % {"limit": f"{limits.MAX_MODEL_BYTES // limits.MIB} MB"},
            "modelEmpty": _("The model file is empty."),
            "lfsPointer": _(
                "This is a Git LFS pointer, not the model. "
                "Run “git lfs pull” and choose the real file."
            ),
            "imageType": _("%(name)s is not a JPEG or PNG image."),
            "imageTooLarge": _("%(name)s is larger than %(limit)s.")
            % {"name": "%(name)s", "limit": f"{limits.MAX_IMAGE_BYTES // limits.MIB} MB"},
            "tooManyImages": _("Choose at most %(count)s images.") % {"count": limits.MAX_IMAGES},
            # The chosen images' count and total size, under the field (one form per count).
            "imagesChosenOne": _images_chosen(1),
            "imagesChosenMany": _images_chosen(2),
            "modelId": _("Enter a whole number from %(min)s to %(max)s.")
            % {"min": limits.MIN_USER_MODEL_ID, "max": limits.MAX_MODEL_ID},
            "version": _("Enter four hexadecimal digits, e.g. 0001."),
            "chooseChip": _("Choose the target chip."),
            "networkError": _(
                "The upload failed: the connection was lost. Check your network and try again."
            ),
            "unexpected": _("Something went wrong. Please try again."),
            "fixErrors": _("Please correct the marked fields."),
            "activeJob": _("You already have a conversion in progress."),
            "sampleLoading": _("Fetching the sample model and its images…"),
            "sampleReady": _(
                "The sample model and %(count)s images are in the form. Press "
                "“Upload and convert” to start."
            ),
            "sampleFailed": _("The sample could not be fetched. Reload the page and try again."),
            "openActive": _("Open it"),
        },
        "upload": upload_progress_messages(
            processing=_("Upload complete. Waiting for the converter to accept the job…"),
            cancelled=_("Upload cancelled. Nothing was sent to the converter."),
        ),
    }


def _images_chosen(count: int) -> str:
    return ngettext("%(count)s image, %(size)s in all", "%(count)s images, %(size)s in all", count)


@login_required
@require_GET
def job_page(request, job_id: str):
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    problem = None
    enabled = conversion_enabled()
    if enabled and not job.is_finished:
        try:
            job = services.job_refresh(job=job)
        except AppError as exc:
            problem = exc.message  # show the last known state, and why it may be stale
    status, status_label = hints.status_shown(job)
    context = {
        "job": job,
        "status": status,
        "status_label": status_label,
        "problem": problem,
        "enabled": enabled,
        "stages": _stages(job),
        "saved_model": job.live_saved_model,
        "preflight_warnings": preflight.warnings_for_display(job.preflight_warnings),
        "elapsed": _elapsed(job),
        "failure": _failure(job) if job.status == JobStatus.FAILED else None,
        "stage_timings": _stage_timings(job),
        "queue_position": job.queue_position if job.status == JobStatus.CREATED else None,
        "can_cancel": enabled and not job.is_finished and converter_status.cancel_supported(),
        "default_name": PurePosixPath(job.filename or "model").stem or "model",
        "page_data": _job_page_data(job),
    }
    return render(request, "conversion/job.html", context)


def _failure(job) -> dict:
    return {
        "stage": hints.stage_label(job.error_stage) if job.error_stage else "",
        "summary": hints.failure_summary(job),
        "converter_message": hints.converter_message(job),
        "hint": hints.failure_hint(job),
        "cancelled": hints.is_cancelled(job),
    }


def _stages(job) -> list[dict]:
    """Each pipeline stage as done / current / failed / cancelled / pending, for the
    stepper. A queued job has no stage in progress yet, whatever stage it names."""
    order = [stage for stage, _label in JobStage.choices]
    if job.status == JobStatus.COMPLETED:
        current = len(order)
    elif job.status == JobStatus.FAILED:
        current = order.index(job.error_stage) if job.error_stage in order else -1
    elif job.status == JobStatus.RUNNING:
        current = order.index(job.stage) if job.stage in order else 0
    else:
        current = -1
    ended_here = "cancelled" if hints.is_cancelled(job) else "failed"
    stages = []
    for index, (value, label) in enumerate(JobStage.choices):
        if index < current:
            state = "done"
        elif index == current:
            state = ended_here if job.status == JobStatus.FAILED else "current"
        else:
            state = "pending"
        stages.append(
            {"value": value, "label": label, "state": state, "state_label": STEP_STATES[state]}
        )
    return stages


def _stage_timings(job) -> list[dict]:
    """The converter's time per stage, in pipeline order, for the stages it reports."""
    timings = job.stage_timings or {}
    return [
        {"label": label, "seconds": round(timings[value])}
        for value, label in JobStage.choices
        if isinstance(timings.get(value), int | float)
    ]


def _elapsed(job) -> int:
    end = job.finished_at if job.is_finished and job.finished_at else timezone.now()
    return max(0, int((end - job.created_at).total_seconds()))


def _job_page_data(job) -> dict:
    return {
        "jobUrl": reverse("api-conversion-job", args=[job.job_id]),
        "promoteUrl": reverse("api-conversion-promote", args=[job.job_id]),
        "cancelUrl": reverse("api-conversion-cancel", args=[job.job_id]),
        # The script puts the saved model's id in place of the 0.
        "modelUrlTemplate": reverse("models-detail", args=[0]),
        "deployUrlTemplate": reverse("devices-deploy", args=[0]),
        "pollIntervalMs": POLL_INTERVAL_MS,
        "maxPollIntervalMs": 30000,
        "finished": job.is_finished,
        "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "stageLabels": dict(JobStage.choices),
        "statusLabels": {
            **dict(JobStatus.choices),
            hints.CANCELLED_STATUS: str(hints.CANCELLED_LABEL),
        },
        "cancelledCode": hints.CANCELLED_CODE,
        "stepStates": {state: str(label) for state, label in STEP_STATES.items()},
        "messages": {
            "stageNow": _("Now: %(stage)s."),
            "completed": _("The conversion is complete."),
            "failed": _("The conversion failed."),
            "cancelled": _("The conversion was cancelled."),
            "reloadToSee": _("The conversion has finished. Reload the page to see the result."),
            "queuePosition": _("Waiting in the converter's queue: position %(position)s."),
            "cancelling": _("Cancelling…"),
            "confirmCancel": _("Cancel this conversion? It cannot be resumed."),
            "connectionProblem": _("Lost contact with the server; retrying in %(seconds)s s…"),
            "saving": _("Saving…"),
            "saved": _("Saved to My models as “%(name)s”."),
            "openModel": _("Open the model"),
            "deploy": _("Deploy to devices"),
            "unexpected": _("Something went wrong. Please try again."),
            "duration": duration_messages(),
        },
    }


@login_required
@require_GET
def history_page(request):
    jobs = selectors.job_list_for_user(user=request.user).order_by("-created_at")
    page = Paginator(jobs, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "job": job,
            "duration": _elapsed(job) if job.is_finished and job.finished_at else None,
            "model": job.live_saved_model,
            "status": hints.status_shown(job),
            # Why it failed, in one sentence (the job page has the details).
            "failure": hints.failure_summary(job)
            if job.status == JobStatus.FAILED and not hints.is_cancelled(job)
            else "",
        }
        for job in page
    ]
    return render(request, "conversion/history.html", {"page": page, "rows": rows})
