"""The values each dashboard filter can take in a range, for the filter bar's choosers.

Read from the daily rollups (one query), ignoring the scope's own filters: a chooser offers every
value that exists in the range, most used first, so a person picks "India" instead of typing a
code that may match nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from dashboard import charts
from dashboard.scope import Scope
from rollups import definitions
from rollups.models import DailyMetric

# Filter name -> the rollup dimension holding its values.
SOURCES = {
    "country": "country",
    "device_type": "device_type",
    "browser": "browser",
    "course": "course",
    "language": "course_language",  # "Course|Language": the language is the second part
    "path": "page",
}
LABELS = {"device_type": "Device", "path": "Page"}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    count: int  # visits or page views in the range, whichever the dimension counts


@dataclass(frozen=True)
class Chooser:
    name: str  # the query-string parameter
    label: str
    choices: list[Choice]
    current: str  # the active value, "" for none

    @property
    def matches_nothing(self) -> bool:
        """An active value that does not occur in the range (every figure would be zero)."""
        return bool(self.current) and all(c.value != self.current for c in self.choices)

    @property
    def current_label(self) -> str:
        return next((c.label for c in self.choices if c.value == self.current), self.current)


def _label(name: str, value: str) -> str:
    if name == "country":
        return charts.country_name(value)
    return value


def filter_choosers(*, scope: Scope, limit: int = 200) -> list[Chooser]:
    """One chooser per registered filter (`rollups.definitions`), with its `limit` most used values.

    One query over the rollups of the scope's site and days.
    """
    rows = (
        DailyMetric.objects.filter(
            site=scope.site, day__gte=scope.start, day__lte=scope.end, dimension__in=set(SOURCES.values())
        )
        .exclude(value="")
        .values("dimension", "value")
        .annotate(visits=Sum("visits"), pageviews=Sum("pageviews"))
    )
    counts: dict[str, dict[str, int]] = {name: {} for name in SOURCES}
    by_dimension = {dimension: name for name, dimension in SOURCES.items()}
    for row in rows:
        name = by_dimension[row["dimension"]]
        value = row["value"].split("|", 1)[-1] if name == "language" else row["value"]
        count = int(row["visits"] or 0) or int(row["pageviews"] or 0)
        counts[name][value] = counts[name].get(value, 0) + count
    choosers = []
    for name in definitions.filter_names():
        ranked = sorted(counts.get(name, {}).items(), key=lambda item: (-item[1], item[0]))[:limit]
        choices = [Choice(value=v, label=_label(name, v), count=n) for v, n in ranked]
        if name != "path":
            choices.sort(key=lambda c: c.label.lower())
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        choosers.append(Chooser(name=name, label=label, choices=choices, current=scope.filters.get(name, "")))
    return choosers
