"""Reads about deployments. Ownership is enforced here: another user's deployment
is indistinguishable from an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from deployments.choices import DeploymentState
from deployments.errors import DeploymentNotFound
from deployments.models import Deployment
from devices.models import Device
from visiona.models import User

# What an agent is handed at once: the oldest unfinished first.
WORK_ITEMS_LIMIT = 20


def _with_relations(queryset: QuerySet[Deployment]) -> QuerySet[Deployment]:
    return queryset.select_related("device", "model", "rolls_back").prefetch_related(
        "model__platforms"
    )


def deployment_work_for_device(*, device: Device) -> list[Deployment]:
    """The device's deployments the agent still has to do (pending, downloading, verifying)."""
    queryset = Deployment.objects.filter(device=device, state__in=DeploymentState.unfinished())
    return list(_with_relations(queryset).order_by("created_at", "pk")[:WORK_ITEMS_LIMIT])


def devices_with_unfinished_work(device_ids: Sequence[str]) -> set[str]:
    """Which of these devices have deployments to do: one query for all of them."""
    return {
        str(device_id)
        for device_id in Deployment.objects.filter(
            device_id__in=list(device_ids), state__in=DeploymentState.unfinished()
        )
        .values_list("device_id", flat=True)
        .distinct()
    }


def deployment_get_for_device(
    *, device: Device, deployment_id: uuid.UUID | str
) -> Deployment | None:
    try:
        return (
            _with_relations(Deployment.objects.filter(device=device))
            .filter(pk=deployment_id)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def deployment_list_for_user(
    *,
    user: User | AnonymousUser,
    device_id: uuid.UUID | str | None = None,
    model_id: int | None = None,
    state: str | None = None,
) -> QuerySet[Deployment]:
    """The user's deployments, newest first, filtered."""
    if not getattr(user, "is_authenticated", False):
        return Deployment.objects.none()
    queryset = _with_relations(Deployment.objects.filter(device__owner_id=user.pk))
    if device_id:
        queryset = queryset.filter(device_id=device_id)
    if model_id:
        queryset = queryset.filter(model_id=model_id)
    if state:
        queryset = queryset.filter(state=state)
    return queryset.order_by("-created_at", "-pk")


def deployment_get_for_user(*, user: User, deployment_id: uuid.UUID | str) -> Deployment:
    try:
        return deployment_list_for_user(user=user).prefetch_related("events").get(pk=deployment_id)
    except (Deployment.DoesNotExist, ValueError, TypeError, ValidationError):
        raise DeploymentNotFound() from None


def deployments_latest_per_device(*, user: User, model_id: int) -> dict[str, Deployment]:
    """For the model's progress page: each paired device's newest deployment of the
    model (an unpaired device is no longer the user's to follow, and has no page)."""
    latest: dict[str, Deployment] = {}
    deployments = deployment_list_for_user(user=user, model_id=model_id)
    for deployment in deployments.filter(device__deleted_at__isnull=True):
        latest.setdefault(str(deployment.device_id), deployment)
    return latest
