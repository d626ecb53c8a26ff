from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

register = template.Library()


DURATION_FORMATS = {
    # Python %-format here; the page scripts get the same texts (see views).
    "hours": gettext_noop("%(hours)d h %(minutes)d min"),
    "minutes": gettext_noop("%(minutes)d min %(seconds)d s"),
    "seconds": gettext_noop("%(seconds)d s"),
}


def duration_messages() -> dict[str, str]:
    """The translated formats, for a page script (values as %(name)s)."""
    return {key: _(text).replace(")d", ")s") for key, text in DURATION_FORMATS.items()}


@register.filter
def duration(seconds) -> str:
    """3725 -> "1 h 2 min"; 75 -> "1 min 15 s"; 9 -> "9 s"."""
    try:
        seconds = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    values = {"hours": hours, "minutes": minutes, "seconds": secs}
    key = "hours" if hours else "minutes" if minutes else "seconds"
    return _(DURATION_FORMATS[key]) % values
