"""Deployment pages: deploy a model to devices, follow its progress, cancel one.

Mounted under /devices/ (their URLs and names predate this app). The model page
(models_repo) links here by URL name; models_repo knows nothing of deployments.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deployments import failures
from deployments import selectors as deployment_selectors
from deployments import services as deployment_services
from deployments.choices import DeploymentState
from deployments.errors import DeploymentFinished, DeploymentNotFound
from devices import presence, selectors
from models_repo import selectors as model_selectors
from models_repo.errors import ModelNotFound
from visiona.errors import AppError

# How often the progress page asks for news.
PROGRESS_POLL_INTERVAL_MS = 2000


def _model_or_404(request, model_id: int):
    try:
        return model_selectors.model_get_for_user(user=request.user, model_id=model_id)
    except ModelNotFound:
        raise Http404() from None


def _device_choices(request, model) -> list[dict]:
    """The user's devices, each with its state and why it cannot take the model, if so."""
    devices = list(selectors.device_list_for_user(user=request.user))
    presences = presence.presences(devices=devices)
    latest = deployment_selectors.deployments_latest_per_device(
        user=request.user, model_id=model.pk
    )
    chips = model.chips
    rows = []
    for device in devices:
        reason = ""
        if device.chip not in chips:
            reason = _("Built for %(chips)s; this device has a %(chip)s.") % {
                "chips": ", ".join(chips),
                "chip": device.chip,
            }
        rows.append(
            {
                "device": device,
                "presence": presences[str(device.pk)],
                "disabled_reason": reason,
                "latest": latest.get(str(device.pk)),
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def deploy(request, model_id: int):
    """GET: the user's devices to choose from; POST: deploy, then follow the progress."""
    model = _model_or_404(request, model_id)
    rows = _device_choices(request, model)
    none_fits = _none_fits(model, rows)
    selected = request.POST.getlist("device_ids") if request.method == "POST" else []
    if request.method == "POST":
        if none_fits:
            pass  # the page says it, above the devices, as it did before the POST
        elif not selected:
            messages.error(request, _("Choose at least one device."))
        else:
            try:
                results = deployment_services.deployments_create(
                    user=request.user, model_id=model.pk, device_ids=selected
                )
            except AppError as exc:
                messages.error(request, str(exc.message))
            else:
                _say_outcomes(request, results)
                return redirect("devices-deploy-progress", model_id=model.pk)
    status = 400 if request.method == "POST" else 200
    context = {"model": model, "rows": rows, "selected": selected, "none_fits": none_fits}
    return render(request, "deployments/deploy.html", context, status=status)


def _none_fits(model, rows: list[dict]) -> str:
    """Why no device of the user's can take the model (empty when one can, or when
    there are none: the page says to pair one)."""
    if not rows or any(not row["disabled_reason"] for row in rows):
        return ""
    chips = sorted({str(row["device"].get_chip_display()) for row in rows})
    return _(
        "None of your devices can take this model: it is built for %(chips)s, and your "
        "devices have %(device_chips)s. Convert the model for their chip, or pair a device "
        "it is built for."
    ) % {"chips": ", ".join(model.chips), "device_chips": ", ".join(chips)}


def _say_outcomes(request, results) -> None:
    """What happened to each device, as a note (not a success: a deployment sent is not
    yet installed, and may still fail): sent to an online device, or waiting for an
    offline one to come back."""
    counts = dict.fromkeys(("created", "already_installed", "already_in_progress"), 0)
    for result in results:
        counts[result.outcome] += 1
    created = [result.device for result in results if result.outcome == "created"]
    online = sum(p.online for p in presence.presences(devices=created).values())
    if online:
        messages.info(
            request,
            ngettext(
                "Sent to %(count)d device: follow it below.",
                "Sent to %(count)d devices: follow them below.",
                online,
            )
            % {"count": online},
        )
    if len(created) - online:
        messages.info(
            request,
            ngettext(
                "%(count)d device is offline: the model waits for it and goes as soon as "
                "its agent is back online.",
                "%(count)d devices are offline: the model waits for them and goes as soon "
                "as their agents are back online.",
                len(created) - online,
            )
            % {"count": len(created) - online},
        )
    if counts["already_installed"]:
        messages.info(
            request,
            ngettext(
                "%(count)d device already runs this exact model: nothing was sent to it.",
                "%(count)d devices already run this exact model: nothing was sent to them.",
                counts["already_installed"],
            )
            % {"count": counts["already_installed"]},
        )
    if counts["already_in_progress"]:
        messages.info(
            request,
            ngettext(
                "%(count)d device was already receiving this model.",
                "%(count)d devices were already receiving this model.",
                counts["already_in_progress"],
            )
            % {"count": counts["already_in_progress"]},
        )


@login_required
@require_GET
def deploy_progress(request, model_id: int):
    """Each device's newest deployment of the model, kept up to date by a script."""
    model = _model_or_404(request, model_id)
    latest = deployment_selectors.deployments_latest_per_device(
        user=request.user, model_id=model.pk
    )
    deployments = list(latest.values())
    devices = [deployment.device for deployment in deployments]
    failures.annotate(deployments, presences=presence.presences(devices=devices))
    return render(
        request,
        "deployments/deploy_progress.html",
        {
            "model": model,
            "deployments": deployments,
            "progress_data": {
                "url": reverse("api-deployments") + f"?model={model.pk}&page_size=100",
                "pollIntervalMs": PROGRESS_POLL_INTERVAL_MS,
                "states": {state.value: str(state.label) for state in DeploymentState},
                "final": sorted(DeploymentState.final()),
                "units": [_("bytes"), "KB", "MB", "GB", "TB"],
                "messages": {
                    "changed": _("%(device)s: %(state)s"),
                    "bytes": _("%(done)s of %(total)s"),
                    "error": _("Could not check the progress; retrying."),
                    "stopped": _("Could not check the progress. Reload the page."),
                },
            },
        },
    )


@login_required
@require_POST
def deployment_retry(request, deployment_id: uuid.UUID):
    """Deploy the same model to the same device again (a new deployment, through the
    same service as the deploy page), then back to where it was asked from."""
    deployment = _deployment_or_404(request, deployment_id)
    if not failures.can_deploy_again(deployment):
        messages.error(request, _("Deploying this one again would not help."))
    else:
        try:
            results = deployment_services.deployments_create(
                user=request.user, model_id=deployment.model_id, device_ids=[deployment.device_id]
            )
        except AppError as exc:
            messages.error(request, str(exc.message))
        else:
            _say_outcomes(request, results)
    return redirect(_back(request, deployment))


def _deployment_or_404(request, deployment_id: uuid.UUID):
    try:
        return deployment_selectors.deployment_get_for_user(
            user=request.user, deployment_id=deployment_id
        )
    except DeploymentNotFound:
        raise Http404() from None


def _back(request, deployment) -> str:
    """The page the form was sent from (``next``, this site only), or the device's."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("devices-detail", args=[deployment.device_id])
    return target


@login_required
@require_POST
def deployment_cancel(request, deployment_id: uuid.UUID):
    """Cancel, then back to the page it was asked from (``next``) or the device's page."""
    deployment = _deployment_or_404(request, deployment_id)
    try:
        deployment_services.deployment_cancel(user=request.user, deployment_id=deployment.pk)
    except DeploymentFinished as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The deployment is cancelled."))
    return redirect(_back(request, deployment))
