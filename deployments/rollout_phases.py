"""A rollout's phases as the user writes them, and how many devices each one gets.

A phase is ``N`` (devices), ``N%`` (of the devices that take part, rounded up, at least
one) or ``rest``; the last phase always takes what the others left, so ``1, 20%``
means ``1, 20%, rest``. With 20 devices, the default ``1, 20%, rest`` is 1, 4 and 15.
Phases left with no device are dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from visiona.errors import ValidationFailed

REST = "rest"
MAX_PHASES = 10
_SIZE = re.compile(r"^(?:(\d{1,5})|(\d{1,3})%|rest)$")


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed.for_fields([{"field": "phases", "message": message}])


def clean_phases(phases: Sequence[str]) -> list[str]:
    """The phases normalised (``" 20 %"`` -> ``"20%"``); ValidationFailed otherwise."""
    cleaned = [re.sub(r"\s+", "", str(phase)).lower() for phase in phases]
    if not cleaned:
        raise _invalid(_("Give at least one phase."))
    if len(cleaned) > MAX_PHASES:
        raise _invalid(_("At most %(count)d phases.") % {"count": MAX_PHASES})
    for position, phase in enumerate(cleaned):
        match = _SIZE.match(phase)
        if match is None:
            raise _invalid(
                _(
                    '"%(phase)s" is not a phase: write a number of devices (3), a share (20%%) '
                    "or rest."
                )
                % {"phase": phase[:20]}
            )
        count, percent = match.groups()
        if (count is not None and int(count) < 1) or (
            percent is not None and not 1 <= int(percent) <= 100
        ):
            raise _invalid(_("A phase has at least one device, and a share is 1%% to 100%%."))
        if phase == REST and position != len(cleaned) - 1:
            raise _invalid(_("Only the last phase can be the rest."))
    if cleaned[-1] != REST:
        cleaned.append(REST)
    return cleaned


def phase_sizes(phases: Sequence[str], total: int) -> list[tuple[str, int]]:
    """Each phase with its number of devices, out of ``total``; empty phases dropped."""
    left = total
    sizes = []
    for phase in phases:
        if phase == REST:
            size = left
        elif phase.endswith("%"):
            size = max(1, math.ceil(int(phase[:-1]) * total / 100))
        else:
            size = int(phase)
        size = min(size, left)
        if size > 0:
            sizes.append((phase, size))
        left -= size
    return sizes
