"""Small template filters for dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key, "")


@register.filter
def index(items: list, position: int) -> Any:
    return items[position] if 0 <= position < len(items) else None


@register.filter
def percent_change(value: float) -> str:
    return f"{'+' if value > 0 else ''}{100 * value:.0f}%"
