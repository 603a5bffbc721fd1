from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from progress.queries import format_position

register = template.Library()


@register.filter
def mmss(seconds: float | int | None) -> str:
    """Seconds as `mm:ss` (`h:mm:ss` past an hour)."""
    return format_position(seconds or 0)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now" within a minute, else "3 hours ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
