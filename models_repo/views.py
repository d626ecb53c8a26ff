"""My models pages: list, upload, detail, edit, delete, download."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from models_repo import reference, registry, selectors, services
from models_repo.errors import ModelAlreadyStored, ModelFileTooLarge, ModelNotFound
from models_repo.forms import ModelEditForm, ModelFilterForm, ModelUploadForm
from models_repo.models import NefModel
from models_repo.provenance import source_link
from models_repo.storage import CHUNK
from models_repo.transfer import limit_upload_size, model_file_response, upload_was_too_large
from visiona.errors import AppError
from visiona.upload_progress import upload_progress_messages

PAGE_SIZE = 20


def _get_model_for_user(request, model_id: int) -> NefModel:
    try:
        return selectors.model_get_for_user(user=request.user, model_id=model_id)
    except ModelNotFound:
        raise Http404() from None


def _show_on_form(form, error: AppError) -> None:
    """Put a service's refusal next to the field it is about."""
    fields = error.details.get("fields") or [{"field": "", "message": str(error.message)}]
    for item in fields:
        form.add_error(item["field"] if item["field"] in form.fields else None, item["message"])


@login_required
@require_GET
def model_list(request):
    filter_form = ModelFilterForm(request.GET)
    filters = filter_form.filters()
    models = selectors.model_list_for_user(user=request.user, **filters)
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "models_repo/list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "filtered": any(filters[key] for key in ("search", "chip", "source")),
        },
    )


# The size limit must be in place before anything reads the body, and the CSRF
# check reads it: so CSRF is checked inside, once the limit is set.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def model_upload(request):
    limit_upload_size(request)
    return _model_upload(request)


@csrf_protect
def _model_upload(request):
    limit = settings.MODELS_MAX_UPLOAD_BYTES
    form = ModelUploadForm(request.POST or None, request.FILES or None)
    duplicate = None  # the model that already has these bytes: a link beside the field
    if request.method == "POST":
        if upload_was_too_large(request):
            form.is_valid()
            form.errors.pop("file", None)
            _show_on_form(form, ModelFileTooLarge(limit_bytes=limit))
        elif form.is_valid():
            try:
                data = form.cleaned_data
                model = services.model_upload(
                    owner=request.user,
                    upload=data["file"],
                    chips=data["chips"],
                    name=data["name"],
                    description=data["description"],
                )
            except AppError as exc:
                if "fields" not in exc.details:
                    raise
                _show_on_form(form, exc)
                if isinstance(exc, ModelAlreadyStored):
                    duplicate = {"url": exc.details["model_url"], "text": _("Open it")}
            else:
                messages.success(request, _("%(name)s is in your models.") % {"name": model.name})
                return redirect("models-detail", model_id=model.pk)
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "limit_bytes": limit,
        "page_data": _upload_page_data(limit),
        "duplicate_link": duplicate,
    }
    return render(request, "models_repo/upload.html", context, status=status)


def _upload_page_data(limit: int) -> dict:
    """For models-upload.js: the page then sends the form to the API with a progress bar
    (without JavaScript, the form posts here as before)."""
    too_large = ModelFileTooLarge(limit_bytes=limit).message
    return {
        "apiUrl": reverse("api-models"),
        # The script puts the new model's id in place of the 0.
        "detailUrlTemplate": reverse("models-detail", args=[0]),
        "maxBytes": limit,
        "extension": services.NEF_EXTENSION,
        "messages": {
            "chooseFile": _("Choose a .nef file to upload."),
            "notNef": _("Choose a .nef file (a model compiled for Kneron chips)."),
            "empty": _("The file is empty."),
            "tooLarge": str(too_large),
            "chooseChip": _("Choose at least one chip the model runs on."),
            "openIt": _("Open it"),
            "fixErrors": _("Please correct the marked fields."),
        },
        "upload": upload_progress_messages(
            processing=_("Upload complete. Checking and storing the model…"),
            cancelled=_("Upload cancelled. Nothing was saved."),
        ),
    }


@login_required
@require_GET
def model_detail(request, model_id: int):
    model = _get_model_for_user(request, model_id)
    return render(
        request,
        "models_repo/detail.html",
        {"model": model, "source_url": source_link(model)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request, model_id: int):
    model = _get_model_for_user(request, model_id)
    initial = {"name": model.name, "description": model.description, "chips": model.chips}
    form = ModelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.model_update(model=model, **form.cleaned_data)
        except AppError as exc:
            if "fields" not in exc.details:
                raise
            _show_on_form(form, exc)
        else:
            messages.success(request, _("The model is saved."))
            return redirect("models-detail", model_id=model.pk)
    status = 400 if form.errors else 200
    return render(request, "models_repo/edit.html", {"model": model, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def model_delete(request, model_id: int):
    model = _get_model_for_user(request, model_id)
    if request.method == "POST":
        services.model_delete(model=model)
        messages.success(request, _("%(name)s is deleted.") % {"name": model.name})
        return redirect("models")
    # What uses it (devices, runs, rollouts: the apps above register it), said before
    # the user confirms.
    uses = registry.model_uses(model=model)
    return render(request, "models_repo/delete.html", {"model": model, "uses": uses})


@login_required
@require_http_methods(["GET", "POST"])
def model_reference_forget(request, model_id: int):
    """GET: ask first (the model page links here); POST: forget the original ONNX."""
    model = _get_model_for_user(request, model_id)
    if not model.has_reference:
        return redirect("models-detail", model_id=model.pk)
    if request.method == "GET":
        needs = registry.reference_needs(model=model)
        context = {"model": model, "needs": needs}
        return render(request, "models_repo/reference_forget.html", context)
    reference.model_reference_delete(model=model)
    messages.success(request, _("The original ONNX is forgotten."))
    return redirect("models-detail", model_id=model.pk)


@login_required
@require_GET
def model_download(request, model_id: int):
    model = _get_model_for_user(request, model_id)
    return model_file_response(request, model)


# The reference upload sets its size limit before the CSRF check reads the body.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def model_reference(request, model_id: int):
    """GET: the original ONNX; POST: keep (or replace) it, or forget it."""
    if request.method == "POST":
        limit_upload_size(request, settings.MODELS_MAX_REFERENCE_BYTES)
    return _model_reference(request, model_id)


@csrf_protect
def _model_reference(request, model_id: int):
    model = _get_model_for_user(request, model_id)
    if request.method == "GET":
        if not model.has_reference:
            raise Http404()
        return reference.reference_response(request, model)
    upload = request.FILES.get("file")
    try:
        if upload_was_too_large(request):
            raise ModelFileTooLarge(limit_bytes=settings.MODELS_MAX_REFERENCE_BYTES)
        if upload is None:
            raise reference.invalid_field("file", _("Choose the .onnx file."))
        reference.model_reference_store(
            model=model, filename=upload.name or "", chunks=upload.chunks(CHUNK)
        )
    except AppError as exc:
        # The field's message says what is wrong with the file; the error's own is generic.
        fields = exc.details.get("fields") or [{"message": str(exc.message)}]
        messages.error(request, fields[0]["message"])
    else:
        messages.success(
            request, _("The original ONNX is kept: runs on a device will be compared with it.")
        )
    return redirect("models-detail", model_id=model.pk)
