"""Reads about rollouts. Ownership is enforced here: another user's rollout is
indistinguishable from an unknown one."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower

from deployments.group_models import DeviceGroup
from deployments.rollout_choices import RolloutState, TargetState
from deployments.rollout_errors import RolloutNotFound
from deployments.rollout_models import Rollout, RolloutPhase, RolloutTarget
from devices import presence
from visiona.models import User


def rollout_list_for_user(
    *,
    user: User | AnonymousUser,
    group_id: uuid.UUID | str | None = None,
    state: str | None = None,
) -> QuerySet[Rollout]:
    """The user's rollouts, newest first, with their phases and devices' states."""
    if not isinstance(user, User) or not user.is_authenticated:
        return Rollout.objects.none()
    queryset = (
        Rollout.objects.filter(owner=user)
        .select_related("model", "group")
        .prefetch_related(
            Prefetch("phases", queryset=RolloutPhase.objects.order_by("number")),
            Prefetch(
                "targets",
                queryset=RolloutTarget.objects.only(
                    "pk", "rollout_id", "phase_id", "state", "rollback_state"
                ),
            ),
        )
    )
    if group_id:
        queryset = queryset.filter(group_id=uuid.UUID(str(group_id)))
    if state:
        queryset = queryset.filter(state=state)
    return queryset.order_by("-created_at", "-pk")


def rollout_get_for_user(*, user: User | AnonymousUser, rollout_id: uuid.UUID | str) -> Rollout:
    """One rollout with every device: its phase, deployment and rollback."""
    try:
        rollout = rollout_list_for_user(user=user).get(pk=rollout_id)
    except (Rollout.DoesNotExist, ValueError, TypeError, ValidationError):
        raise RolloutNotFound() from None
    rollout.device_rows = list(
        RolloutTarget.objects.filter(rollout=rollout)
        .select_related("device", "phase", "deployment", "rollback", "rollback__model", "smoke_run")
        .order_by("phase__number", Lower("device__name"), "pk")
    )
    for target in rollout.device_rows:
        target.rollout = rollout  # its reason reads the rollout's least cosine
    # Each device's connection from one registry lookup, not one each.
    presence.with_presence([target.device for target in rollout.device_rows])
    return rollout


def active_rollout_of_group(*, group_id: uuid.UUID | str) -> Rollout | None:
    return Rollout.objects.filter(
        group_id=uuid.UUID(str(group_id)), state__in=RolloutState.active()
    ).first()


def active_rollouts_by_group(*, groups: Iterable[DeviceGroup]) -> dict[uuid.UUID | None, Rollout]:
    """The rollout under way of each of these groups (one query), by group id (never
    None here; the key's type is the nullable column's)."""
    active = Rollout.objects.filter(group__in=groups, state__in=RolloutState.active())
    return {rollout.group_id: rollout for rollout in active}


@dataclass
class Counts:
    """How many devices are in each state (all of the rollout's, or one phase's)."""

    by_state: Counter = field(default_factory=Counter)
    rollback: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def under_way(self) -> int:
        return self.by_state[TargetState.DEPLOYING] + self.by_state[TargetState.CHECKING]

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, **{state: self.by_state[state] for state in TargetState}}


def counts(rollout: Rollout, *, phase_id: int | None = None) -> Counts:
    """From the prefetched ``targets`` (rollout_list_for_user)."""
    result = Counts()
    for target in rollout.targets.all():
        if phase_id is not None and target.phase_id != phase_id:
            continue
        result.by_state[target.state] += 1
        if target.rollback_state:
            result.rollback[target.rollback_state] += 1
    return result
