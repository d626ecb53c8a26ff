"""Group pages (/devices/groups/...) and a device's pin and rollback actions.

Mounted under /devices/ beside the device pages (devices links here by URL name; it
imports nothing of deployments). Thin: the rules are in group_services and
rollback_services; an AppError becomes a message on the page it came from.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from deployments import (
    group_selectors,
    group_services,
    rollback_services,
    rollout_selectors,
)
from deployments.choices import DeploymentState
from deployments.fleet_forms import GroupNameForm, PinForm
from deployments.models import Deployment
from deployments.rollout_errors import GroupNotFound
from devices import presence
from devices import selectors as device_selectors
from devices.choices import Chip
from devices.errors import DeviceNotFound
from visiona.errors import AppError

RECENT_ROLLOUTS = 10


def _group_or_404(request, group_id):
    try:
        return group_selectors.group_get_for_user(user=request.user, group_id=group_id)
    except GroupNotFound:
        raise Http404() from None


def _back(request, fallback: str):
    """To the page the form was on (``next``, this site only), or ``fallback``."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _say_error(request, exc: AppError) -> None:
    messages.error(request, str(exc.message))


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request):
    """The user's groups; POST makes a new (empty) one and opens it."""
    form = GroupNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_services.group_create(user=request.user, name=form.cleaned_data["name"])
        except AppError as exc:
            form.add_error("name", str(exc.message))
        else:
            messages.success(request, _("The group is made: add devices to it."))
            return redirect("devices-group", group_id=group.pk)
    groups = list(group_selectors.group_list_for_user(user=request.user))
    active = rollout_selectors.active_rollouts_by_group(groups=groups)
    rows = [{"group": group, "active": active.get(group.pk)} for group in groups]
    status = 400 if request.method == "POST" else 200
    return render(
        request, "deployments/group_list.html", {"rows": rows, "form": form}, status=status
    )


def _current_model_name():
    installed = Deployment.objects.filter(
        device=OuterRef("pk"), state=DeploymentState.INSTALLED
    ).order_by("-finished_at", "-created_at")
    return Subquery(installed.values("model__name")[:1])


@login_required
def group_detail(request, group_id: uuid.UUID):
    group = _group_or_404(request, group_id)
    members = presence.with_presence(
        group_selectors.group_devices(group=group).annotate(current_model=_current_model_name())
    )
    pins = group_selectors.pins_for_devices(devices=members)
    member_ids = {device.pk for device in members}
    others = [
        device
        for device in device_selectors.device_list_for_user(user=request.user).order_by("name")
        if device.pk not in member_ids
    ]
    context = {
        "group": group,
        "members": [{"device": d, "pin": pins.get(str(d.pk))} for d in members],
        "others": others,
        "chips": Chip.choices,
        "rename_form": GroupNameForm(initial={"name": group.name}),
        "active": rollout_selectors.active_rollout_of_group(group_id=group.pk),
        "group_pin": group_selectors.pin_of_group(group=group),
        "rollouts": rollout_selectors.rollout_list_for_user(user=request.user, group_id=group.pk)[
            :RECENT_ROLLOUTS
        ],
    }
    return render(request, "deployments/group_detail.html", context)


@login_required
@require_POST
def group_rename(request, group_id: uuid.UUID):
    group = _group_or_404(request, group_id)
    form = GroupNameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the group a name of at most 100 characters."))
    else:
        try:
            group_services.group_rename(
                user=request.user, group_id=group.pk, name=form.cleaned_data["name"]
            )
        except AppError as exc:
            _say_error(request, exc)
        else:
            messages.success(request, _("The group is renamed."))
    return redirect("devices-group", group_id=group.pk)


@login_required
@require_http_methods(["GET", "POST"])
def group_delete(request, group_id: uuid.UUID):
    """GET: ask first (the group page links here); POST: delete it."""
    group = _group_or_404(request, group_id)
    if request.method == "GET":
        return render(request, "deployments/group_delete.html", {"group": group})
    group_services.group_delete(user=request.user, group_id=group.pk)
    messages.success(request, _("The group is deleted. Its devices are as they were."))
    return redirect("devices-groups")


@login_required
@require_POST
def group_devices(request, group_id: uuid.UUID):
    """``action=add`` (``device_ids`` and/or ``chip``) or ``action=remove`` (``device_ids``)."""
    group = _group_or_404(request, group_id)
    device_ids = request.POST.getlist("device_ids")
    chip = request.POST.get("chip", "")
    action = request.POST.get("action")
    try:
        if action == "remove" and device_ids:
            group_services.group_remove_devices(
                user=request.user, group_id=group.pk, device_ids=device_ids
            )
            messages.success(request, _("The devices are out of the group."))
        elif action == "add" and (device_ids or chip in Chip.values):
            group_services.group_add_devices(
                user=request.user,
                group_id=group.pk,
                device_ids=device_ids,
                chip=chip if chip in Chip.values else "",
            )
            messages.success(request, _("The devices are in the group."))
        else:
            messages.error(request, _("Choose at least one device (or a chip)."))
    except AppError as exc:
        _say_error(request, exc)
    return redirect("devices-group", group_id=group.pk)


@login_required
@require_http_methods(["GET", "POST"])
def group_rollback(request, group_id: uuid.UUID):
    """GET: say which device gets which model back, and which keeps what it has and
    why, and ask first (the group page links here); POST: roll back."""
    group = _group_or_404(request, group_id)
    if request.method == "GET":
        return _group_rollback_question(request, group)
    try:
        results = rollback_services.group_rollback(user=request.user, group_id=group.pk)
    except AppError as exc:
        _say_error(request, exc)
        return redirect("devices-group", group_id=group.pk)
    sent = sum(1 for result in results if result.deployment is not None)
    if not sent:
        # Not a success "on its way to 0 devices": nothing changed; the reasons follow.
        messages.warning(
            request,
            _(
                "Nothing was rolled back: no device of the group has a model it can go "
                "back to. Each keeps what it has, for the reason below."
            ),
        )
    else:
        messages.success(
            request,
            ngettext(
                "A rollback is on its way to %(count)d device.",
                "A rollback is on its way to %(count)d devices.",
                sent,
            )
            % {"count": sent},
        )
    for result in results:
        if result.deployment is None:
            messages.info(request, f"{result.device.name}: {result.reason}")
    return redirect("devices-group", group_id=group.pk)


def _group_rollback_question(request, group):
    try:
        plans = rollback_services.group_rollback_plans(user=request.user, group_id=group.pk)
    except AppError as exc:  # a rollout under way, or no device: said on the group page
        _say_error(request, exc)
        return redirect("devices-group", group_id=group.pk)
    back = [
        {"device": device, "current": plan.undo, "restore": plan.restore}
        for device, plan in plans
        if plan.error is None
    ]
    kept = [
        {"device": device, "current": plan.undo, "reason": str(plan.error.message)}
        for device, plan in plans
        if plan.error is not None
    ]
    context = {"group": group, "back": back, "kept": kept}
    return render(request, "deployments/group_rollback.html", context)


def _pin(request, pin: Callable[..., object], pinned: str, **subject_id: uuid.UUID) -> None:
    """Pin (``pin``: a group_services one, given ``subject_id``) with the form's reason
    (none when it is not valid) and say so, or why not. Not found is the page's 404: the
    subject is unknown or another user's."""
    form = PinForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        pin(user=request.user, reason=reason, **subject_id)
    except AppError as exc:
        if exc.status == 404:
            raise Http404() from None
        _say_error(request, exc)
    else:
        messages.success(request, pinned)


def _unpin(request, unpin: Callable[..., object], unpinned: str, **subject_id: uuid.UUID) -> None:
    try:
        unpin(user=request.user, **subject_id)
    except AppError:
        # Unpinning refuses nothing but an unknown subject (or another user's).
        raise Http404() from None
    messages.success(request, unpinned)


@login_required
@require_POST
def group_pin(request, group_id: uuid.UUID):
    group = _group_or_404(request, group_id)
    pinned = _("The group is pinned: rollouts leave its devices out.")
    _pin(request, group_services.group_pin, pinned, group_id=group.pk)
    return redirect("devices-group", group_id=group.pk)


@login_required
@require_POST
def group_unpin(request, group_id: uuid.UUID):
    group = _group_or_404(request, group_id)
    unpinned = _("The group is unpinned: rollouts include its devices again.")
    _unpin(request, group_services.group_unpin, unpinned, group_id=group.pk)
    return redirect("devices-group", group_id=group.pk)


@login_required
@require_POST
def device_pin(request, device_id: uuid.UUID):
    pinned = _("The device is pinned: rollouts leave it out.")
    _pin(request, group_services.device_pin, pinned, device_id=device_id)
    return _back(request, reverse("devices-detail", args=[device_id]))


@login_required
@require_POST
def device_unpin(request, device_id: uuid.UUID):
    unpinned = _("The device is unpinned: rollouts include it again.")
    _unpin(request, group_services.device_unpin, unpinned, device_id=device_id)
    return _back(request, reverse("devices-detail", args=[device_id]))


@login_required
@require_http_methods(["GET", "POST"])
def device_rollback(request, device_id: uuid.UUID):
    """GET: say which model comes back and which goes, and ask first (the device page
    links here); POST: roll back."""
    if request.method == "GET":
        return _device_rollback_question(request, device_id)
    try:
        rollback = rollback_services.device_rollback(user=request.user, device_id=device_id)
    except AppError as exc:
        if exc.status == 404:
            raise Http404() from None
        _say_error(request, exc)
    else:
        messages.success(
            request,
            _("Rolling back: %(model)s is on its way back to the device.")
            % {"model": rollback.model.name},
        )
    return _back(request, reverse("devices-detail", args=[device_id]))


def _device_rollback_question(request, device_id: uuid.UUID):
    try:
        device = device_selectors.device_get_for_user(user=request.user, device_id=device_id)
    except DeviceNotFound:
        raise Http404() from None
    plan = rollback_services.rollback_plan(device=device)
    if plan.error is not None:  # the device page says why in place of the button
        _say_error(request, plan.error)
        return redirect("devices-detail", device_id=device.pk)
    context = {"device": device, "current": plan.undo, "restore": plan.restore}
    return render(request, "deployments/device_rollback.html", context)
