"""What a dashboard page or stats request is about: site, dates, grain and filters.

Parsed from the query string, so every view is a shareable, bookmarkable URL. Pages and the stats
API parse with the same function and pass the same `Scope` to `dashboard.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.http import QueryDict

from events.models import Site
from events.validation import Rule, query_date
from rollups import definitions

PERIODS = {"today": 1, "yesterday": 1, "7d": 7, "10d": 10, "30d": 30, "90d": 90}
PERIOD_LABELS = {"today": "Today", "yesterday": "Yesterday", "7d": "7D", "10d": "10D", "30d": "30D", "90d": "90D"}
GRAINS = ("day", "week", "month", "year")
MAX_DAYS = 3 * 366


class ScopeError(ValueError):
    """A query-string parameter breaks a rule; `field` and `rule` say which and why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class Scope:
    site: Site
    start: date  # first day, inclusive (UTC)
    end: date  # last day, inclusive (UTC)
    period: str = "7d"  # a key of PERIODS, or "custom"
    grain: str = "day"
    filters: dict[str, str] = field(default_factory=dict)
    # "auto": rollups when no filter is set; "raw": always GROUP BY over events (bench, checks).
    source: str = "auto"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def uses_rollups(self) -> bool:
        return self.source == "rollups" or (self.source == "auto" and not self.filters)

    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), tzinfo=UTC)

    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def previous(self) -> Scope:
        """The period of the same length that ends the day before this one starts."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def with_source(self, source: str) -> Scope:
        return replace(self, source=source)

    def params(self, **changes: str | None) -> dict[str, str]:
        """Query-string parameters of this scope, with `changes` applied (None removes one)."""
        values: dict[str, str | None] = {"site": self.site.site_id, "period": self.period, "grain": self.grain}
        if self.period == "custom":
            values.update({"from": self.start.isoformat(), "to": self.end.isoformat()})
        values.update(self.filters)
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}  # type: ignore[misc]

    def query(self, **changes: str | None) -> str:
        return "?" + urlencode(self.params(**changes))


def _date(params: QueryDict, name: str) -> date:
    try:
        return query_date(str(params.get(name, "")))
    except Rule as rule:
        raise ScopeError(name, str(rule)) from None


def parse_scope(*, params: QueryDict, today: date | None = None) -> Scope:
    """Read a Scope from query parameters; raises ScopeError naming the first bad parameter.

    Defaults: the default site (else the oldest), the last 7 days, grain day, no filters. `from`
    and `to` (both inclusive) make the period "custom"; `period` picks a named one.
    """
    today = today or datetime.now(UTC).date()
    site_id = params.get("site", "")
    site = (
        Site.objects.by_public_id(site_id)
        if site_id
        else (Site.objects.default() or Site.objects.order_by("pk").first())
    )
    if site is None:
        raise ScopeError("site", "no such site" if site_id else "no site exists yet")
    if "from" in params or "to" in params:
        period = "custom"
        start = _date(params, "from") if "from" in params else today
        end = _date(params, "to") if "to" in params else today
        if end < start:
            raise ScopeError("to", "must not be before from")
        if (end - start).days >= MAX_DAYS:
            raise ScopeError("to", f"a range may span at most {MAX_DAYS} days")
    else:
        period = params.get("period", "7d").lower()
        if period not in PERIODS:
            raise ScopeError("period", f"must be one of {', '.join(PERIODS)}")
        end = today - timedelta(days=1) if period == "yesterday" else today
        start = end - timedelta(days=PERIODS[period] - 1)
    grain = params.get("grain", "day")
    if grain not in GRAINS:
        raise ScopeError("grain", f"must be one of {', '.join(GRAINS)}")
    filters = {name: str(params.get(name, "")).strip() for name in definitions.filter_names()}
    filters = {name: value for name, value in filters.items() if value}
    if "country" in filters:
        filters["country"] = filters["country"].upper()
    return Scope(site=site, start=start, end=end, period=period, grain=grain, filters=filters)


def bucket_of(day: date, grain: str) -> date:
    """The first day of the day / ISO week / month / year that `day` falls in."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def buckets(*, scope: Scope) -> list[date]:
    """Every bucket of the scope's range at its grain, oldest first (empty ones included)."""
    found: list[date] = []
    day = scope.start
    while day <= scope.end:
        bucket = bucket_of(day, scope.grain)
        if not found or found[-1] != bucket:
            found.append(bucket)
        day += timedelta(days=1)
    return found
