"""What every number means: the one registry of event roles, metrics and dimensions.

Sessions (`events.sessions`), the rollup writer (`rollups.update`), the raw-event and rollup
sources of the dashboards (`dashboard.sources`), the stats API, the pages, the exports and the
README's definitions all read this module; none keeps a list of its own. A number defined twice
drifts, and a drifted number is a wrong number.

- An event's **role** says how it counts: a page view, an engagement report, an interaction, or
  passive (counted as an event, nothing else). It is decided once, by `role_of()`, when the worker
  stores the event, and kept in `Event.role`, so SQL over raw events and Python over rows use the
  same answer.
- A **metric** is a named number with its definition in words (the README prints them).
- A **dimension** is a way to break a number down. Visit dimensions describe a visit by its first
  event (where it came from, which browser) or by its page views (entry and exit page); event
  dimensions count events of one kind per value (page views per page, exit links per address).
  Each carries how the rollup writer reads it from a row and how raw SQL computes it, and which
  filter, if any, narrows a scope by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

Row = Mapping[str, Any]


class Role(models.TextChoices):
    PAGE_VIEW = "page_view", "page view"
    ENGAGEMENT = "engagement", "engagement report"
    INTERACTION = "interaction", "interaction"
    PASSIVE = "passive", "passive"


# Requests a host answered without showing a page: redirects, errors of the visitor's making are
# still pages (a 404 page is seen), but a redirect is not.
_PAGE_METHODS = {"GET"}
_QUIET_METHODS = {"GET", "HEAD", "OPTIONS"}


def role_of(*, category: str, name: str, data: Mapping[str, Any]) -> Role:
    """How one event counts.

    - page view: the tracker's `page_interaction/page_view`, and a host's `server/request` that
      is a GET answered with a page (any status except a redirect, 3xx);
    - engagement: the tracker's `page_interaction/engagement` (time on a page, sent on hide);
    - passive: other server requests that only read (HEAD, OPTIONS, a redirected GET);
    - interaction: everything else (clicks, exit links, forms, POSTs, custom and video events).
    A visit with at most one page view and no interaction is a bounce.
    """
    if (category, name) == ("page_interaction", "page_view"):
        return Role.PAGE_VIEW
    if (category, name) == ("page_interaction", "engagement"):
        return Role.ENGAGEMENT
    if (category, name) == ("server", "request"):
        method = str(data.get("method") or "GET").upper()
        status = data.get("status")
        redirected = isinstance(status, int) and 300 <= status < 400
        if method in _PAGE_METHODS and not redirected:
            return Role.PAGE_VIEW
        if method in _QUIET_METHODS:
            return Role.PASSIVE
    return Role.INTERACTION


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    definition: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("visitors", "Visitors", "distinct visitors with an event in the range (never a sum of days)"),
        Metric(
            "visits",
            "Visits",
            "sessions that started in the range; a session is one client session id with no pause longer "
            "than SESSION_INACTIVITY_MINUTES",
        ),
        Metric("pageviews", "Page views", "events whose role is page view (tracker page views, host GET pages)"),
        Metric("events", "Events", "every stored event"),
        Metric("bounce_rate", "Bounce rate", "share of visits with at most one page view and no interaction"),
        Metric("visit_duration", "Visit duration", "mean seconds from a visit's first event to its last"),
        Metric("pages_per_visit", "Pages per visit", "page views of visits divided by visits"),
        Metric("new_visits", "New visits", "visits of visitors not seen in the RETURNING_VISITOR_DAYS before"),
        Metric("returning_visits", "Returning visits", "visits of visitors seen in the RETURNING_VISITOR_DAYS before"),
        Metric("average_time", "Avg. time on page", "engaged seconds reported on a page divided by its page views"),
    )
}


def _text(column: str) -> Callable[[Row], str]:
    return lambda row: str(row.get(column) or "")


def _visitor_type(row: Row) -> str:
    new = row.get("is_new_visitor")
    return "" if new is None else ("new" if new else "returning")


@dataclass(frozen=True)
class Dimension:
    """One way to break numbers down.

    `kind` is "visit" (each visit counted once under its value) or "event" (events counted per
    value, on their own day). For visit dimensions `of_first` reads the value from the visit's
    first event and `sql` computes it over that event's columns (alias `f`); entry and exit use
    the visit's page views instead. For event dimensions `of_event` reads the value from an event
    (None: the event does not count here) and `counter` says what is counted. `visitor_sets`
    dimensions keep distinct visitors per value. `filter` names the scope filter on it.
    """

    name: str
    label: str
    kind: str
    of_first: Callable[[Row], str] | None = None
    sql: str = ""
    of_event: Callable[[Row], str | None] | None = None
    counter: str = "pageviews"
    visitor_sets: bool = False
    filter: str = ""


def _visit(name: str, label: str, column: str = "", *, sql: str = "", filter: str = "") -> Dimension:
    column = column or name
    return Dimension(name, label, "visit", of_first=_text(column), sql=sql or f"f.{column}", filter=filter)


def _page_of(row: Row) -> str | None:
    return str(row["path"]) if row.get("role") == Role.PAGE_VIEW else None


def _event_name_of(row: Row) -> str | None:
    return str(row.get("event_name") or "") if row.get("role") == Role.PAGE_VIEW else None


def _kind_of(row: Row) -> str | None:
    return f"{row['category']}/{row['name']}" if "category" in row else None


def _exit_link_of(row: Row) -> str | None:
    if (row.get("category"), row.get("name")) != ("page_interaction", "exit_link"):
        return None
    return str((row.get("data") or {}).get("href") or "")


VISIT_DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("total", "All visits", "visit", of_first=lambda row: "", sql="''"),
        _visit("country", "Country", filter="country"),
        Dimension(
            "region",
            "Region",
            "visit",
            of_first=lambda row: f"{row.get('country') or ''}|{row.get('region') or ''}",
            sql="f.country || '|' || f.region",
        ),
        Dimension(
            "city",
            "City",
            "visit",
            of_first=lambda row: f"{row.get('country') or ''}|{row.get('region') or ''}|{row.get('city') or ''}",
            sql="f.country || '|' || f.region || '|' || f.city",
        ),
        _visit("browser", "Browser", filter="browser"),
        _visit("os", "Operating system"),
        _visit("device", "Device"),
        _visit("device_type", "Device type", filter="device_type"),
        _visit("screen", "Screen"),
        _visit("language", "Browser language"),
        _visit("referrer", "Source", "referrer_host"),
        _visit("channel", "Channel"),
        _visit("utm_source", "UTM source"),
        _visit("utm_medium", "UTM medium"),
        _visit("utm_campaign", "UTM campaign"),
        Dimension(
            "visitor_type",
            "New or returning",
            "visit",
            of_first=_visitor_type,
            sql="CASE WHEN f.is_new_visitor IS NULL THEN '' WHEN f.is_new_visitor THEN 'new' ELSE 'returning' END",
        ),
        # Entry and exit: the visit's first and last page view (visits without one have neither).
        Dimension("entry", "Entry page", "visit"),
        Dimension("exit", "Exit page", "visit"),
    )
}

# The event columns a visit's first-event dimensions read: what rollups load per visit.
VISIT_ATTRIBUTES = (
    "country",
    "region",
    "city",
    "browser",
    "os",
    "device",
    "device_type",
    "screen",
    "language",
    "referrer_host",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "is_new_visitor",
)

EVENT_DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("page", "Page", "event", of_event=_page_of, visitor_sets=True, filter="path"),
        Dimension("event_name", "Event name", "event", of_event=_event_name_of),
        Dimension("event", "Event type", "event", of_event=_kind_of, counter="events"),
        Dimension("exit_link", "Exit link", "event", of_event=_exit_link_of, counter="events"),
    )
}


def register_event_dimension(dimension: Dimension) -> None:
    """Add an event dimension offered by another app (progress offers courses and languages)."""
    if dimension.kind != "event" or dimension.of_event is None:
        raise ValueError("an offered dimension must be an event dimension with an extractor")
    EVENT_DIMENSIONS[dimension.name] = dimension


@dataclass(frozen=True)
class PagePathFilter:
    """A scope filter that selects page views by their path.

    `matches(path, value)` says whether a path passes (Python); `lookup(value)` gives the ORM
    lookup on `path` that selects the same paths (SQL). Both must agree: tests say so.
    """

    name: str
    label: str
    matches: Callable[[str, str], bool]
    lookup: Callable[[str], dict[str, Any]]


# Filters that describe a visit (its first event): country, browser, device type. Filters that
# name pages (path, and those other apps offer, like course) select, for visit metrics, the visits
# with a page view that matches and, for event metrics, the events on matching pages.
VISIT_FILTERS = {d.filter: d for d in VISIT_DIMENSIONS.values() if d.filter}
PAGE_FILTERS: dict[str, PagePathFilter] = {
    "path": PagePathFilter("path", "Page", lambda path, value: path == value, lambda value: {"path": value}),
}


def register_page_filter(page_filter: PagePathFilter) -> None:
    PAGE_FILTERS[page_filter.name] = page_filter


def filter_names() -> tuple[str, ...]:
    """Every scope filter, visit filters first, in the order the filter bar shows them."""
    return (*VISIT_FILTERS, *PAGE_FILTERS)


def dimension(name: str) -> Dimension:
    found = VISIT_DIMENSIONS.get(name) or EVENT_DIMENSIONS.get(name)
    if found is None:
        raise ValueError(f"unknown dimension {name!r}")
    return found


def definitions_markdown() -> str:
    """The README's definitions section, written from this registry."""
    lines = ["| metric | definition |", "|---|---|"]
    lines += [f"| {m.label} (`{m.name}`) | {m.definition} |" for m in METRICS.values()]
    lines += ["", "| dimension | kind | filter |", "|---|---|---|"]
    for d in (*VISIT_DIMENSIONS.values(), *EVENT_DIMENSIONS.values()):
        what = "per visit, from its first event" if d.kind == "visit" else f"{d.counter} per value"
        if d.name in ("entry", "exit"):
            what = "per visit, from its page views"
        lines.append(f"| {d.label} (`{d.name}`) | {what} | {f'`{d.filter}`' if d.filter else ''} |")
    return "\n".join(lines)
