"""Small template filters for dashboard pages."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dashboard import charts, pages

register = template.Library()
# After escaping, "&" is "&amp;": break after the whole entity, never inside it.
_BREAK_AFTER = re.compile(r"&amp;|[/?=|_]")


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key, "")


@register.filter
def index(items: list, position: int) -> Any:
    return items[position] if 0 <= position < len(items) else None


@register.filter
def percent_change(value: float) -> str:
    return f"{'+' if value > 0 else ''}{100 * value:.0f}%"


# Cells shown as numbers although they are text: "66.7%", "1,234", "1m 06s", "45s", "+5%".
_NUMERIC_TEXT = re.compile(r"[+-]?[\d,]+(\.\d+)? ?%?|\d+m \d{2}s|\d+s")


@register.filter
def is_number(value: Any) -> bool:
    """Numbers (and numbers shown as text) are right-aligned and never wrapped; booleans are not."""
    if isinstance(value, str):
        return bool(_NUMERIC_TEXT.fullmatch(value))
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?")


@register.filter
def cell_class(value: Any) -> str:
    """ "num" for numbers (right-aligned), "when" for dates and times (kept on one line), else ""."""
    if is_number(value):
        return "num"
    if isinstance(value, str) and _WHEN.fullmatch(value):
        return "when"
    return ""


@register.filter
def shown(value: Any, fmt: str) -> str:
    """A raw table cell as people read it: seconds as "1m 06s", ratios as "44.4%" (see pages.shown)."""
    return pages.shown(value, fmt or "")


@register.filter
def breakable(value: Any) -> str:
    """Escaped text that may wrap after "/", "?", "&", "=", "|" or "_" (paths, URLs, ids), never mid-word."""
    text = escape(str(value))
    return mark_safe(_BREAK_AFTER.sub(lambda m: m.group(0) + "<wbr>", text))


@register.filter
def plotly_bundle(figures: list[str]) -> str:
    """The static path of the plotly.js that draws these figures (see charts.bundle_for)."""
    return charts.bundle_for(figures)


@register.simple_tag
def without_filter(scope: Any, name: str) -> str:
    """The query string of `scope` with the filter `name` removed (a chip's remove link)."""
    return scope.query(**{name: None})
