"""What deployments add to My models (registered in DeploymentsConfig.ready() through
models_repo/registry.py, since models_repo imports no app above it): what uses a model,
on the page that confirms its delete."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deployments.choices import DeploymentState
from deployments.models import Deployment
from deployments.rollout_choices import RolloutState
from deployments.rollout_models import Rollout
from deployments.run_models import Run
from models_repo import registry
from models_repo.models import NefModel
from models_repo.registry import ModelUse, UsedBy

# The confirmation names this many of each kind; a link leads to the rest.
SHOWN = 10


def model_uses(*, model: NefModel) -> list[ModelUse]:
    return [use for use in (_devices(model), _rollouts(model), _runs(model)) if use is not None]


def _devices(model: NefModel) -> ModelUse | None:
    """The live devices whose latest deployment of the model is installed or under way."""
    latest: dict[str, Deployment] = {}
    deployments = (
        Deployment.objects.filter(model=model, device__deleted_at__isnull=True)
        .select_related("device")
        .order_by("-created_at", "-pk")
    )
    for deployment in deployments:
        latest.setdefault(str(deployment.device_id), deployment)
    kept = (DeploymentState.INSTALLED, *DeploymentState.unfinished())
    on = sorted(
        (deployment for deployment in latest.values() if deployment.state in kept),
        key=lambda deployment: deployment.device.name.lower(),
    )
    if not on:
        return None
    return ModelUse(
        title=ngettext("On %(count)s device", "On %(count)s devices", len(on)) % {"count": len(on)},
        items=[
            UsedBy(
                label=deployment.device.name,
                url=reverse("devices-detail", args=[deployment.device_id]),
                note=deployment.get_state_display(),
            )
            for deployment in on[:SHOWN]
        ],
        more=max(0, len(on) - SHOWN),
        advice=_("The devices keep the model: deleting it here does not remove it from them."),
    )


def _rollouts(model: NefModel) -> ModelUse | None:
    rollouts = list(Rollout.objects.filter(model=model).order_by("-created_at", "-pk")[: SHOWN + 1])
    if not rollouts:
        return None
    total = Rollout.objects.filter(model=model).count()
    active = Rollout.objects.filter(model=model, state__in=RolloutState.active()).exists()
    return ModelUse(
        title=ngettext("In %(count)s rollout", "In %(count)s rollouts", total) % {"count": total},
        items=[
            UsedBy(
                label=rollout.group_name,
                url=reverse("devices-rollout", args=[rollout.pk]),
                note=rollout.get_state_display(),
            )
            for rollout in rollouts[:SHOWN]
        ],
        more=max(0, total - SHOWN),
        advice=_(
            "A rollout still under way goes on with the deleted model: pause it or roll it "
            "back first if it should stop."
        )
        if active
        else "",
    )


def _runs(model: NefModel) -> ModelUse | None:
    total = Run.objects.filter(model=model).count()
    if not total:
        return None
    return ModelUse(
        title=ngettext("Used by %(count)s run", "Used by %(count)s runs", total) % {"count": total},
        all_url=f"{reverse('runs')}?model={model.pk}",
        advice=_("Its runs and their results stay."),
    )


def register() -> None:
    registry.register_model_uses("deployments", model_uses)
