from django import template

from progress.queries import format_position

register = template.Library()


@register.filter
def mmss(seconds: float | int | None) -> str:
    """Seconds as `mm:ss` (`h:mm:ss` past an hour)."""
    return format_position(seconds or 0)
