"""Reads about runs. Another user's run (or another device's) answers like an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from deployments.errors import RunInputMissing, RunNotFound
from deployments.run_choices import RunState
from deployments.run_models import Run, RunInput
from devices.models import Device
from visiona.models import User

WORK_LIMIT = 20


def _with_relations(queryset: QuerySet[Run]) -> QuerySet[Run]:
    return queryset.select_related("device", "model")


def run_list_for_user(
    *,
    user: User | AnonymousUser,
    model_id: int | None = None,
    device_id: uuid.UUID | str | None = None,
    state: str | None = None,
) -> QuerySet[Run]:
    if not user.is_authenticated:
        return Run.objects.none()
    runs = _with_relations(Run.objects.filter(owner=user))
    if model_id is not None:
        runs = runs.filter(model_id=model_id)
    if device_id is not None:
        runs = runs.filter(device_id=device_id)
    if state:
        runs = runs.filter(state=state)
    return runs.order_by("-created_at", "-pk")


def run_get_for_user(*, user: User | AnonymousUser, run_id: uuid.UUID | str) -> Run:
    if not user.is_authenticated:
        raise RunNotFound()
    try:
        run = _with_relations(Run.objects.filter(owner=user)).filter(pk=run_id).first()
    except (ValueError, TypeError, ValidationError):
        run = None
    if run is None:
        raise RunNotFound()
    return run


def run_inputs(*, run: Run) -> QuerySet[RunInput]:
    return run.inputs.order_by("index")


def run_input_get(*, run: Run, index: int) -> RunInput:
    item = run.inputs.filter(index=index).first()
    if item is None:
        raise RunInputMissing()
    return item


def run_work_for_device(*, device: Device) -> list[Run]:
    """The device's unfinished runs, oldest first: what its agent is to run."""
    queryset = Run.objects.filter(device=device, state__in=RunState.unfinished())
    return list(
        _with_relations(queryset)
        .prefetch_related("inputs")
        .order_by("created_at", "pk")[:WORK_LIMIT]
    )


def devices_with_unfinished_runs(device_ids: Sequence[str]) -> set[str]:
    """Which of these devices have runs to do: one query for all of them."""
    return {
        str(device_id)
        for device_id in Run.objects.filter(
            device_id__in=list(device_ids), state__in=RunState.unfinished()
        )
        .values_list("device_id", flat=True)
        .distinct()
    }


def run_waiting_count(*, device: Device) -> int:
    return Run.objects.filter(device=device, state__in=RunState.unfinished()).count()


def run_get_for_device(*, device: Device, run_id: uuid.UUID | str) -> Run:
    try:
        run = Run.objects.filter(device=device, pk=run_id).first()
    except (ValueError, TypeError, ValidationError):
        run = None
    if run is None:
        raise RunNotFound()
    return run
