"""What the user sees of the converter: its health, and whether it can cancel jobs.

Both are shared by every worker and instance through the cache: health is asked at
most every 30 s (the converter itself caches it that long), cancel support once an
hour (a DELETE of a job that does not exist: 404 means it cancels, 501 that it
cannot yet), and learnt again from every real cancel.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from conversion.clients import budget, conversion_enabled, converter
from conversion.clients import errors as client_errors
from visiona.single_flight import SingleFlightTimeout, single_flight

HEALTH_KEY = "conversion:converter-health"
HEALTH_TTL_SECONDS = 30
CANCEL_SUPPORT_KEY = "conversion:converter-cancel-supported"
CANCEL_SUPPORT_TTL_SECONDS = 3600
# States in which the convert form is disabled, and why.
UPLOAD_BLOCKED = {
    "unhealthy": _("The converter reports that it is unhealthy, so uploads are paused."),
    "unreachable": _("The converter cannot be reached right now, so uploads are paused."),
}
DEGRADED_NOTE = _("The converter reports degraded service: conversions may be slow.")


def health() -> dict:
    """{"status": healthy|degraded|unhealthy|unreachable|disabled, "checked_at": ISO or None}."""
    if not conversion_enabled():
        return {"status": "disabled", "checked_at": None}
    try:
        return single_flight(HEALTH_KEY, _ask_health, ttl=HEALTH_TTL_SECONDS, wait=5)
    except SingleFlightTimeout:
        return {"status": "unreachable", "checked_at": None}


def _ask_health() -> dict:
    return {"status": converter.health(), "checked_at": datetime.now(UTC).isoformat()}


def upload_blocked_reason(state: dict) -> str | None:
    reason = UPLOAD_BLOCKED.get(state["status"])
    return str(reason) if reason else None


def cancel_supported() -> bool:
    """Whether the converter cancels jobs; False while unknown (the button stays away)."""
    if not conversion_enabled():
        return False
    known = cache.get(CANCEL_SUPPORT_KEY)
    if known is not None:
        return known
    try:
        return single_flight(
            CANCEL_SUPPORT_KEY, _probe_cancel, ttl=CANCEL_SUPPORT_TTL_SECONDS, wait=5
        )
    except (SingleFlightTimeout, client_errors.ClientError):
        return False


def _probe_cancel() -> bool:
    try:
        converter.cancel_job(str(uuid.uuid4()), priority=budget.BACKGROUND)
    except client_errors.CancelNotSupported:
        return False
    except client_errors.JobNotFound:
        return True
    return True


def remember_cancel_support(supported: bool) -> None:
    cache.set(CANCEL_SUPPORT_KEY, supported, timeout=CANCEL_SUPPORT_TTL_SECONDS)


class ConverterHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["healthy", "degraded", "unhealthy", "unreachable", "disabled"],
        help_text="The converter's own health, as it reports it (disabled: not configured).",
    )
    checked_at = serializers.DateTimeField(allow_null=True)


def register_health() -> None:
    """The converter's health in /api/system/health, as ``converter``."""
    from visiona.registry import register_health_part

    register_health_part(
        "converter",
        fields=lambda: {"converter": ConverterHealthSerializer()},
        values=lambda user: {"converter": health()},
    )
