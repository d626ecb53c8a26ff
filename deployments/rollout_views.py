"""Rollout pages: the list, a new rollout, one rollout followed live, its actions.

The rollout's page is whole without script; ``static/js/rollout-progress.js`` then
polls ``GET /api/rollouts/<id>`` every 2 s while the rollout is under way and updates
its state, the pause's reason, each phase and each device in place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deployments import (
    group_selectors,
    rollout_actions,
    rollout_selectors,
    rollout_services,
    rollout_texts,
    run_selectors,
)
from deployments.choices import DeploymentState
from deployments.fleet_forms import RolloutForm
from deployments.rollout_choices import PhaseState, RestoredFrom, RolloutState, TargetState
from deployments.rollout_errors import RolloutNotFound
from deployments.rollout_phases import REST
from deployments.run_choices import RunState
from models_repo import selectors as model_selectors
from visiona.durations import duration_messages
from visiona.errors import AppError

POLL_INTERVAL_MS = 2000
# Intl.DateTimeFormat's locale and options giving each language's DATETIME_FORMAT
# (visiona/formats/): "1 Dec 2026, 20:22", "2026年12月1日 20:22".
DATE_TIME_INTL = {
    "en": {
        "locale": "en-GB",
        "options": {"day": "numeric", "month": "short", "year": "numeric"},
    },
    "zh-hant": {
        "locale": "zh-Hant",
        "options": {"day": "numeric", "month": "long", "year": "numeric"},
    },
}
ACTIONS = {
    "pause": rollout_actions.rollout_pause,
    "resume": rollout_actions.rollout_resume,
    "retry": rollout_actions.rollout_retry,
    "rollback": rollout_actions.rollout_rollback,
}


@login_required
def rollout_list(request):
    rollouts = rollout_selectors.rollout_list_for_user(user=request.user)[:50]
    rows = [{"rollout": r, "counts": rollout_selectors.counts(r)} for r in rollouts]
    return render(request, "deployments/rollout_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def rollout_new(request):
    groups = list(group_selectors.group_list_for_user(user=request.user))
    models = list(model_selectors.model_list_for_user(user=request.user, sort="name"))
    runs = run_selectors.run_list_for_user(user=request.user).filter(state=RunState.COMPLETED)
    initial = {key: request.GET[key] for key in ("group", "model") if key in request.GET}
    group_chips = group_selectors.group_chips(groups=groups)
    if "model" not in initial:
        initial["model"] = _model_that_fits(groups, models, group_chips, initial.get("group"))
    form = RolloutForm(
        request.POST or None, initial=initial, groups=groups, models=models, runs=runs[:50]
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            rollout = rollout_services.rollout_create(
                user=request.user,
                model_id=int(values["model"]),
                group_id=values["group"],
                phases=form.phase_list(),
                max_failure_percent=values["max_failure_percent"],
                wait_seconds=values["wait_minutes"] * 60,
                smoke_run_id=values["smoke_run"] or None,
                smoke_min_cosine=values["smoke_min_cosine"],
                smoke_expect=values["smoke_expect"],
            )
        except AppError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The rollout has started."))
            return redirect("devices-rollout", rollout_id=rollout.pk)
    status = 400 if request.method == "POST" else 200
    # For the page's script: when another group is chosen and the chosen model fits none
    # of its devices, it moves the choice to the first model that fits one.
    page_data = {
        "groupChips": group_chips,
        "modelChips": {str(model.pk): list(model.chips) for model in models},
    }
    context = {"form": form, "groups": groups, "models": models, "page_data": page_data}
    return render(request, "deployments/rollout_new.html", context, status=status)


def _model_that_fits(groups, models, group_chips: dict[str, list[str]], group_id) -> str:
    """The form's first choice of model: the first one built for a chip of the chosen
    group's devices (the first group when none is chosen), or none when no model fits."""
    group = next((g for g in groups if str(g.pk) == group_id), groups[0] if groups else None)
    if group is None:
        return ""
    chips = set(group_chips.get(str(group.pk), ()))
    return next((str(m.pk) for m in models if chips.intersection(m.chips)), "")


def _form_error(form: RolloutForm, exc: AppError) -> None:
    """The service's refusal, next to the field it is about."""
    fields = {
        "validation_failed": "phases",
        "group_empty": "group",
        "group_not_found": "group",
        "rollout_in_progress": "group",
        "no_device_of_chip": "model",
        "no_eligible_devices": "group",
        "model_not_found": "model",
        "smoke_run_invalid": "smoke_run",
        "run_not_found": "smoke_run",
    }
    field = fields.get(exc.code)
    detail = exc.details.get("fields") if isinstance(exc.details, dict) else None
    if detail and detail[0].get("field") in form.fields:  # the service named it
        field = detail[0]["field"]
    message = detail[0]["message"] if detail else str(exc.message)
    form.add_error(field, message)


@login_required
def rollout_detail(request, rollout_id: uuid.UUID):
    try:
        rollout = rollout_selectors.rollout_get_for_user(user=request.user, rollout_id=rollout_id)
    except RolloutNotFound:
        raise Http404() from None
    chips = rollout.model.chips
    now = timezone.now()
    rows = [
        {
            "target": target,
            "reason": rollout_texts.target_reason(target, model_chips=chips),
            "rollback_reason": rollout_texts.rollback_reason(target),
        }
        for target in rollout.device_rows
    ]
    context = {
        "rollout": rollout,
        "rows": rows,
        "counts": rollout_selectors.counts(rollout),
        "phases": [
            {
                "phase": phase,
                "size": _("the rest") if phase.size == REST else phase.size,
                "counts": rollout_selectors.counts(rollout, phase_id=phase.pk),
                "left": rollout_texts.deadline_left(phase, now=now),
            }
            for phase in rollout.phases.all()
        ],
        "pause_message": rollout_texts.pause_message(rollout),
        "rollback_summary": rollout_texts.rollback_summary(
            rollout, rollout_selectors.counts(rollout)
        ),
        "can": _allowed(rollout),
        "progress_data": _progress_data(rollout, now=now),
    }
    return render(request, "deployments/rollout_detail.html", context)


def _allowed(rollout) -> dict[str, bool]:
    counts = rollout_selectors.counts(rollout)
    return {
        "pause": rollout.state == RolloutState.RUNNING,
        "resume": rollout.state == RolloutState.PAUSED,
        "retry": rollout.state
        in (RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.COMPLETED)
        and counts.by_state[TargetState.FAILED] > 0,
        "rollback": rollout.state not in (RolloutState.ROLLING_BACK, RolloutState.ROLLED_BACK),
    }


def _progress_data(rollout, *, now: datetime) -> dict:
    return {
        "url": reverse("api-rollouts-detail", args=[rollout.pk]),
        "pollIntervalMs": POLL_INTERVAL_MS,
        "active": rollout.is_active,
        # The countdowns count from the server's clock, not the browser's, which may be off.
        "serverNow": now.isoformat(),
        # How the script writes a new deadline: as the page's own times (visiona/formats/).
        "dateTime": DATE_TIME_INTL.get(get_language() or "", DATE_TIME_INTL["en"]),
        "duration": duration_messages(),
        "rolloutStates": {state.value: str(state.label) for state in RolloutState},
        "phaseStates": {state.value: str(state.label) for state in PhaseState},
        "targetStates": {state.value: str(state.label) for state in TargetState},
        "deploymentStates": {state.value: str(state.label) for state in DeploymentState},
        "restoredFrom": {state.value: str(state.label) for state in RestoredFrom},
        "messages": {
            # The sentence of _rollout_counts.html (one message for both).
            "counts": _(
                "%(passed)s passed · %(failed)s failed · %(under_way)s under way · "
                "%(planned)s to come · %(offline)s offline · %(skipped)s skipped, of %(total)s"
            ),
            "changed": _("%(device)s: %(state)s"),
            "rollout": _("The rollout is %(state)s."),
            "error": _("Could not check the rollout; retrying."),
            "stopped": _("Could not check the rollout. Reload the page."),
            "reload": _("Reload the page for the actions that now apply."),
            **rollout_texts.deadline_messages(),
        },
    }


@login_required
@require_http_methods(["GET", "POST"])
def rollout_rollback(request, rollout_id: uuid.UUID):
    """GET: say what rolling back does and ask first; POST: roll back."""
    if request.method == "POST":
        return rollout_action(request, rollout_id, "rollback")
    try:
        rollout = rollout_selectors.rollout_get_for_user(user=request.user, rollout_id=rollout_id)
    except RolloutNotFound:
        raise Http404() from None
    if not _allowed(rollout)["rollback"]:
        return redirect("devices-rollout", rollout_id=rollout_id)
    return render(request, "deployments/rollout_rollback.html", {"rollout": rollout})


@login_required
@require_POST
def rollout_action(request, rollout_id: uuid.UUID, action: str):
    act = ACTIONS.get(action)
    if act is None:
        raise Http404()
    try:
        rollout = act(user=request.user, rollout_id=rollout_id)
    except RolloutNotFound:
        raise Http404() from None
    except AppError as exc:
        messages.error(request, str(exc.message))
    else:
        if action == "rollback" and rollout.state == RolloutState.ROLLED_BACK:
            # Rolled back at once: no rollback was sent (the page says why per device).
            messages.info(request, rollout_texts.nothing_rolled_back())
        else:
            messages.success(request, _DONE[action]())
    return redirect("devices-rollout", rollout_id=rollout_id)


_DONE = {
    "pause": lambda: _("Paused: no further phase starts until you resume."),
    "resume": lambda: _("Resumed."),
    "retry": lambda: _("The model is on its way again to the devices that failed."),
    "rollback": lambda: _(
        "Rolling back: each device this rollout installed the model on gets back the "
        "model it had before."
    ),
}
