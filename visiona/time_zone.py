"""Times in the user's own zone: the browser says which (static/js/time-zone.js posts it
once), the session remembers it, and a middleware activates it for every request, so
templates and forms show local times. Without one, times are in settings.TIME_ZONE.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone

SESSION_KEY = "time_zone"
# IANA names are short (the longest is about 30 characters).
_MAX_NAME_LENGTH = 64


def zone_named(name: object) -> zoneinfo.ZoneInfo | None:
    """The zone for an IANA name such as ``Asia/Taipei``, or None for anything else."""
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME_LENGTH:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # unknown, or not a plain key (a path, a NUL...)


def remember(session, name: str) -> bool:
    """Keep the browser's zone on the session; False (nothing kept) for an unknown one."""
    if zone_named(name) is None:
        return False
    if session.get(SESSION_KEY) != name:
        session[SESSION_KEY] = name
    return True


def session_zone_name(session) -> str:
    """The zone the session holds, "" when none (or one no longer known)."""
    name = session.get(SESSION_KEY, "") if session is not None else ""
    return name if zone_named(name) is not None else ""


def utc_offset_label(moment: datetime, zone) -> str:
    """UTC+8, UTC-3:30, UTC: a zone's offset at that moment, readable in any language."""
    offset = timezone.localtime(moment, zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


class TimeZoneMiddleware:
    """Activates the session's zone for the request (after the session middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_named(session_zone_name(getattr(request, "session", None)))
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
