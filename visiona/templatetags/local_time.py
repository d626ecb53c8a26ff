"""Times as the user reads them: in their zone (visiona/time_zone.py activates it), in
their language's one format (visiona/formats/), as a <time> whose title names the zone.

    {{ job.created_at|local_datetime }}             1 Dec 2026, 20:22
    {{ job.created_at|local_datetime:"zone" }}      1 Dec 2026, 20:22 UTC+8 (visible zone)
    {{ job.expires_at|local_date }}                 8 Dec 2026
    {{ device.last_seen_at|local_datetime_text }}   1 Dec 2026, 20:22 (Asia/Taipei), plain
    {{ device.last_seen_at|time_ago }}              3 minutes ago; just now (under a minute)
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext

from visiona.time_zone import utc_offset_label

register = template.Library()

# Under a minute, timesince says "0 minutes": time_ago says "just now" instead.
JUST_NOW_SECONDS = 60


def _zone_title(moment: datetime) -> str:
    zone = timezone.get_current_timezone()
    return f"{timezone.get_current_timezone_name()} ({utc_offset_label(moment, zone)})"


def _time_element(moment, format_name: str, show_zone: bool):
    if not isinstance(moment, datetime):
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    text = formats.date_format(local, format_name)
    iso = moment.astimezone(UTC).isoformat(timespec="seconds") if timezone.is_aware(moment) else ""
    title = _zone_title(moment) if timezone.is_aware(moment) else ""
    if show_zone and title:
        zone = utc_offset_label(moment, timezone.get_current_timezone())
        return format_html(
            '<time datetime="{}" title="{}" data-local>{} <span class="time-zone">{}</span></time>',
            iso,
            title,
            text,
            zone,
        )
    return format_html('<time datetime="{}" title="{}" data-local>{}</time>', iso, title, text)


@register.filter
def local_datetime(moment, option: str = ""):
    return _time_element(moment, "DATETIME_FORMAT", option == "zone")


@register.filter
def local_date(moment, option: str = ""):
    return _time_element(moment, "DATE_FORMAT", option == "zone")


@register.filter
def local_datetime_text(moment) -> str:
    """Plain text with the zone's name, for a title attribute: 1 Dec 2026, 20:22 (Asia/Taipei)."""
    if not isinstance(moment, datetime):
        return ""
    text = formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return f"{text} ({timezone.get_current_timezone_name()})"


@register.filter
def time_ago(moment) -> str:
    """How long ago, as Django's timesince says it ("3 minutes ago"), but "just now" under
    a minute, where timesince would say "0 minutes"."""
    if not isinstance(moment, datetime):
        return ""
    if (timezone.now() - moment).total_seconds() < JUST_NOW_SECONDS:
        return gettext("just now")
    return gettext("%(since)s ago") % {"since": timesince(moment)}


@register.simple_tag
def current_time_zone() -> dict:
    """The active zone's name and its offset now, for a page's "times are in" note."""
    now = timezone.now()
    return {
        "name": timezone.get_current_timezone_name(),
        "offset": utc_offset_label(now, timezone.get_current_timezone()),
    }
