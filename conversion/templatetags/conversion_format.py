from django import template

from visiona.durations import duration_messages, format_duration

__all__ = ["duration", "duration_messages"]

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """3725 -> "1 h 2 min"; 75 -> "1 min 15 s"; 9 -> "9 s"."""
    return format_duration(seconds)
