"""Durations as people read them ("1 min 15 s"), for pages and their scripts alike."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

DURATION_FORMATS = {
    # Python %-format here; page scripts get the same texts (duration_messages).
    "hours": gettext_noop("%(hours)d h %(minutes)d min"),
    "minutes": gettext_noop("%(minutes)d min %(seconds)d s"),
    "seconds": gettext_noop("%(seconds)d s"),
}


def duration_messages() -> dict[str, str]:
    """The translated formats, for a page script (values as %(name)s, static/js/text.js)."""
    return {key: _(text).replace(")d", ")s") for key, text in DURATION_FORMATS.items()}


def format_duration(seconds) -> str:
    """3725 -> "1 h 2 min"; 75 -> "1 min 15 s"; 9 -> "9 s"; not a number -> ""."""
    try:
        seconds = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    values = {"hours": hours, "minutes": minutes, "seconds": secs}
    key = "hours" if hours else "minutes" if minutes else "seconds"
    return _(DURATION_FORMATS[key]) % values
