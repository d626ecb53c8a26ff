"""Run pages (docs/runs.md): run a model on a device, a run's figures and charts, the
history per model and per device. Mounted at /runs/; the model page links here by URL
name (models_repo does not import deployments)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from visiona_client.inference_contract import (
    CHANNEL_ORDERS,
    DEFAULT_REPEAT,
    INPUT_SUFFIXES,
    MAX_REPEAT,
    SCALES,
    ContractError,
    InferOptions,
    starts_of,
)

from deployments import run_charts, run_selectors, run_services
from deployments.choices import DeploymentState
from deployments.errors import RunNotFound
from deployments.models import Deployment, Run
from deployments.run_choices import SCALE_LABELS, ReferenceState, runtime_label
from deployments.run_uploads import files_to_disk
from deployments.views import _model_or_404
from devices import selectors as device_selectors
from devices.errors import DeviceNotFound
from models_repo import selectors as model_selectors
from models_repo.errors import ModelNotFound
from models_repo.storage import CHUNK
from models_repo.transfer import too_large_upload_name, upload_was_too_large
from visiona.errors import AppError, PayloadTooLarge
from visiona.sizes import size_limit

PAGE_SIZE = 20
POLL_INTERVAL_MS = 2000


def _run_or_404(request, run_id):
    try:
        return run_selectors.run_get_for_user(user=request.user, run_id=run_id)
    except RunNotFound:
        raise Http404() from None


def _installed_devices(request, model) -> list:
    installed = set(
        Deployment.objects.filter(
            model=model, state=DeploymentState.INSTALLED, sha256=model.sha256
        ).values_list("device_id", flat=True)
    )
    return [
        d for d in device_selectors.device_list_for_user(user=request.user) if d.pk in installed
    ]


# The inputs go to temporary files before the CSRF check reads the body.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def run_new(request, model_id: int):
    if request.method == "POST":
        try:
            files_to_disk(request)
        except PayloadTooLarge as exc:
            return _new_page(request, model_id, error=exc, status=413)
    return _run_new(request, model_id)


@csrf_protect
def _run_new(request, model_id: int):
    if request.method == "GET":
        return _new_page(request, model_id)
    model = _model_or_404(request, model_id)
    uploads = request.FILES.getlist("inputs")
    try:
        if upload_was_too_large(request):
            raise run_services.input_too_large(too_large_upload_name(request))
        options = InferOptions.from_query(
            {key: request.POST.get(key, "") or default for key, default in _DEFAULTS.items()}
        )
        run = run_services.run_create(
            user=request.user,
            model_id=model.pk,
            device_id=request.POST.get("device_id", ""),
            inputs=[
                run_services.NewInput(
                    name=upload.name or "input",
                    content_type=run_services.input_type_of(upload.name or "", upload.content_type),
                    size_bytes=upload.size or 0,
                    chunks=upload.chunks(CHUNK),
                )
                for upload in uploads
            ],
            options=options,
        )
    except AppError as exc:
        return _new_page(request, model_id, error=exc, status=exc.status)
    except ContractError as exc:  # a repetition count or scale the contract refuses
        return _new_page(request, model_id, error_text=_option_problem(exc), status=400)
    messages.success(request, _("The run is sent to %(device)s.") % {"device": run.device.name})
    return redirect("runs-detail", run_id=run.pk)


def _option_problem(error: ContractError) -> str:
    """The contract's refusal of an option, in the page's language (the contract's own
    words are the device's English): the count is typed; the others come from lists."""
    if error.parameter == "repeat":
        return _("Timed repetitions per input: enter a whole number from 1 to %(max)d.") % {
            "max": MAX_REPEAT
        }
    return _("Choose the channel order and the pixel scale from their lists.")


_DEFAULTS = {"repeat": str(DEFAULT_REPEAT), "channel_order": "rgb", "scale": "unit"}


def _new_page(request, model_id: int, *, error=None, error_text: str = "", status: int = 200):
    model = _model_or_404(request, model_id)
    if error is not None:
        fields = error.details.get("fields") if hasattr(error, "details") else None
        error_text = fields[0]["message"] if fields else str(error.message)
    context = {
        "model": model,
        "devices": _installed_devices(request, model),
        "error": error_text,
        "max_repeat": MAX_REPEAT,
        "default_repeat": DEFAULT_REPEAT,
        "channel_orders": CHANNEL_ORDERS,
        "scales": SCALES,
        "selected": request.POST if request.method == "POST" else {},
        "max_inputs": settings.RUNS_MAX_INPUTS,
        "max_input_size": size_limit(settings.RUNS_MAX_INPUT_BYTES),
        "page_data": _new_page_data(),
    }
    return render(request, "deployments/run_new.html", context, status=status)


def _new_page_data() -> dict:
    """What run-new.js checks before the form is sent, in the server's own words
    (run_services._check_inputs): the same limits, the same first bytes."""
    not_an_input = _("%(name)s is not an image (PNG, JPEG, BMP), a .npy or a .npz.")
    return {
        "limits": {
            "maxInputs": settings.RUNS_MAX_INPUTS,
            "maxInputBytes": settings.RUNS_MAX_INPUT_BYTES,
            "maxTotalBytes": settings.RUNS_MAX_TOTAL_BYTES,
            # File extension -> the ways such a file may begin.
            "starts": {
                suffix: [list(start) for start in starts_of(media)]
                for suffix, media in INPUT_SUFFIXES.items()
            },
        },
        "messages": {
            "chooseInput": _("Choose at least one input."),
            "tooMany": _("At most %(count)d inputs per run.") % {"count": settings.RUNS_MAX_INPUTS},
            "notAnInput": not_an_input,
            "empty": _("%(name)s is empty."),
            "tooLarge": _("%(name)s is larger than %(limit)s.")
            % {"name": "%(name)s", "limit": size_limit(settings.RUNS_MAX_INPUT_BYTES)},
            "totalTooLarge": _("The inputs come to more than %(limit)s in all.")
            % {"limit": size_limit(settings.RUNS_MAX_TOTAL_BYTES)},
        },
    }


@login_required
@require_GET
def run_detail(request, run_id):
    run = _run_or_404(request, run_id)
    inputs = list(run_selectors.run_inputs(run=run))
    rows = [{"item": item, "figures": _input_figures(item.agreement)} for item in inputs]
    timings = [timing for item in inputs for timing in item.timings_ms or []]
    waiting = not run.is_final or run.reference_state in (
        ReferenceState.PENDING,
        ReferenceState.COMPUTING,
    )
    context = {
        "run": run,
        "runtime": runtime_label(run.runtime),
        "scale": SCALE_LABELS.get(run.scale, run.scale),
        "inputs": rows,
        "latency_chart": run_charts.latency_histogram(timings),
        "agreement_chart": run_charts.agreement_bars(inputs),
        "chart_width": run_charts.WIDTH,
        "chart_height": run_charts.HEIGHT,
        "page_data": {
            "apiUrl": f"/api/runs/{run.pk}",
            "pollMs": POLL_INTERVAL_MS if waiting else 0,
            "seen": [run.state, run.inputs_done, run.reference_state],
        },
    }
    return render(request, "deployments/run_detail.html", context)


def _input_figures(agreement) -> dict | None:
    """An input's row: the worst of its outputs (lowest cosine, largest error)."""
    figures = [f for f in (agreement or {}).values() if isinstance(f, dict) and "cosine" in f]
    if not figures:
        return None
    top1 = [f["top1"] for f in figures if f.get("top1") is not None]
    return {
        "cosine": min(f["cosine"] for f in figures),
        "max_abs": max(f["max_abs"] for f in figures),
        "top1": all(top1) if top1 else None,
    }


@login_required
@require_GET
def run_list(request):
    model_id, device_id = request.GET.get("model", ""), request.GET.get("device", "")
    try:
        device = str(uuid.UUID(device_id)) if device_id else None
    except ValueError:
        device = "malformed"
    if (model_id and not model_id.isdigit()) or device == "malformed":
        runs = Run.objects.none()  # a malformed filter matches nothing
    else:
        runs = run_selectors.run_list_for_user(
            user=request.user, model_id=int(model_id) if model_id else None, device_id=device
        )
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filtered": bool(model_id or device_id),
        # What the list is narrowed to, named: the heading says it, "All runs" clears it.
        "filter_model": _owned_model(request, model_id),
        "filter_device": _owned_device(request, device),
    }
    return render(request, "deployments/run_list.html", context)


def _owned_model(request, model_id: str):
    if not model_id.isdigit():
        return None
    try:
        return model_selectors.model_get_for_user(user=request.user, model_id=int(model_id))
    except ModelNotFound:
        return None


def _owned_device(request, device_id: str | None):
    if not device_id or device_id == "malformed":
        return None
    try:
        return device_selectors.device_get_for_user(user=request.user, device_id=device_id)
    except DeviceNotFound:
        return None


@login_required
@require_POST
def run_cancel(request, run_id):
    run = _run_or_404(request, run_id)
    try:
        run_services.run_cancel(user=request.user, run_id=run.pk)
    except AppError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The run is cancelled."))
    return redirect("runs-detail", run_id=run.pk)


@login_required
@require_POST
def run_agreement(request, run_id):
    run = _run_or_404(request, run_id)
    try:
        run_services.run_agreement_request(user=request.user, run_id=run.pk)
    except AppError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The comparison with the original ONNX is on its way."))
    return redirect("runs-detail", run_id=run.pk)
