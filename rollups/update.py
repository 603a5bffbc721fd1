"""Keep the rollup tables current: the one place that writes them.

`record()` is called by `events.ingest.store_batch` with the rows it has just inserted (never a
duplicate), inside the same transaction, so a committed event is always counted exactly once.
`rebuild()` recomputes a site's rollups from its raw events (the `rebuild_rollups` command).

Visits need more than the new rows: a new page view can turn a bounce into a two-page visit, move
its exit page or lengthen it. So for every session the new rows touch, `record()` reads that
session's events, computes what the visit contributed before the new rows and what it contributes
now, and adds the difference. Contributions are pure functions of a session's events, so the order
in which events arrive (late, out of order, in several batches) never changes the result.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from django.db import connection, transaction

from events.models import Event
from rollups.models import DailyMetric, DailyPageVisitor, DailyVisitor, Place

PAGE_VIEW = ("page_interaction", "page_view")
EXIT_LINK = ("page_interaction", "exit_link")
ENGAGEMENT = ("page_interaction", "engagement")
WATCH_PREFIX = "/watch/"

Row = Mapping[str, Any]
Key = tuple[int, date, str, str]  # site, day, dimension, value

EVENT_COUNTERS = ("events", "pageviews", "engaged_seconds")
VISIT_COUNTERS = ("visits", "bounces", "duration", "visit_pageviews")


def _text(name: str) -> Callable[[Row], str]:
    return lambda row: str(row.get(name) or "")


def _visitor_type(row: Row) -> str:
    new = row.get("is_new_visitor")
    return "" if new is None else ("new" if new else "returning")


# Dimensions of a visit, read from its first event. The order is the order of dashboard tables.
VISIT_DIMENSIONS: dict[str, Callable[[Row], str]] = {
    "total": lambda row: "",
    "country": _text("country"),
    "region": lambda row: f"{row.get('country') or ''}|{row.get('region') or ''}",
    "city": lambda row: f"{row.get('country') or ''}|{row.get('region') or ''}|{row.get('city') or ''}",
    "browser": _text("browser"),
    "os": _text("os"),
    "device": _text("device"),
    "device_type": _text("device_type"),
    "screen": _text("screen"),
    "language": _text("language"),
    "referrer": _text("referrer_host"),
    "channel": _text("channel"),
    "utm_source": _text("utm_source"),
    "utm_medium": _text("utm_medium"),
    "utm_campaign": _text("utm_campaign"),
    "visitor_type": _visitor_type,
}
# What describes a visit: the columns of its first event (its place, browser, source, …).
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
# Event columns a visit's dimensions need.
SESSION_FIELDS = ["id", "site_id", "session_id", "timestamp", "category", "name", "path", *VISIT_ATTRIBUTES]


def watch_parts(path: str) -> tuple[str, str, str] | None:
    """(course, tutorial, language) of a tutorial page `/watch/<course>/<tutorial>/<language>/`."""
    if not path.startswith(WATCH_PREFIX):
        return None
    parts = [p for p in path[len(WATCH_PREFIX) :].split("/") if p]
    if len(parts) < 3:
        return None
    return parts[0], parts[1], parts[2]


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def visitor_hash(*, site_id: int, visitor: str) -> int:
    """The 64-bit key a visitor is counted under in the per-day visitor sets."""
    return _hash64(f"{site_id}:{visitor}")


def page_hash(*, path: str) -> int:
    """The 64-bit key a path is stored under in the per-day page visitor sets."""
    return _hash64(path)


def page_keys(path: str) -> list[str]:
    """Keys a page view adds its visitor under: the path, and its course and tutorial language."""
    watch = watch_parts(path)
    if not watch:
        return [path]
    return [path, f"course:{watch[0]}", f"tutorial_language:{watch[2]}"]


def visitor_of(row: Row) -> str:
    """Who an event counts for: its visitor id, or its session when the sender gave none."""
    return str(row.get("visitor_id") or row["session_id"])


def _kind(row: Row) -> tuple[str, str]:
    return row["category"], row["name"]


def _day(row: Row) -> date:
    return row["timestamp"].date()


def event_contributions(rows: Iterable[Row]) -> dict[Key, dict[str, float]]:
    """Event counters the rows add, keyed by (site, day, dimension, value)."""
    totals: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(EVENT_COUNTERS, 0))
    for row in rows:
        site, day, kind = row["site_id"], _day(row), _kind(row)
        keys = [(site, day, "total", ""), (site, day, "event", f"{kind[0]}/{kind[1]}")]
        for key in keys:
            totals[key]["events"] += 1
        if kind == PAGE_VIEW:
            path = row["path"]
            keys += [(site, day, "page", path), (site, day, "event_name", str(row.get("event_name") or ""))]
            watch = watch_parts(path)
            if watch:
                keys += [
                    (site, day, "course", watch[0]),
                    (site, day, "tutorial_language", watch[2]),
                    (site, day, "course_language", f"{watch[0]}|{watch[2]}"),
                    (site, day, "tutorial", f"{watch[0]}|{watch[1]}"),
                ]
            for key in keys:
                totals[key]["pageviews"] += 1
        elif kind == ENGAGEMENT:
            totals[(site, day, "page", row["path"])]["engaged_seconds"] += float(
                (row.get("data") or {}).get("engaged_seconds") or 0
            )
        elif kind == EXIT_LINK:
            totals[(site, day, "exit_link", str((row.get("data") or {}).get("href") or ""))]["events"] += 1
    return totals


def visit_contributions(events: list[Row]) -> dict[Key, dict[str, int]]:
    """What one session's events add to the visit counters (empty for no events).

    The visit starts at its earliest event (ties broken by id) and is counted on that day, under
    that event's dimension values; it bounces when it has fewer than two page views; it lasts from
    its first to its last event; it enters at its first page view and exits at its last.
    """
    if not events:
        return {}
    ordered = sorted(events, key=lambda e: (e["timestamp"], str(e["id"])))
    first, last = ordered[0], ordered[-1]
    views = [e for e in ordered if _kind(e) == PAGE_VIEW]
    counters = {
        "visits": 1,
        "bounces": 1 if len(views) < 2 else 0,
        "duration": int((last["timestamp"] - first["timestamp"]).total_seconds()),
        "visit_pageviews": len(views),
    }
    site, day = first["site_id"], _day(first)
    keys = [(site, day, dimension, value_of(first)) for dimension, value_of in VISIT_DIMENSIONS.items()]
    if views:
        keys += [(site, day, "entry", views[0]["path"]), (site, day, "exit", views[-1]["path"])]
    return {key: counters for key in keys}


def _add(into: dict[Key, dict[str, float]], part: Mapping[Key, Mapping[str, float]], sign: int = 1) -> None:
    for key, counters in part.items():
        target = into.setdefault(key, {})
        for name, value in counters.items():
            target[name] = target.get(name, 0) + sign * value


def _upsert_metrics(changes: Mapping[Key, Mapping[str, float]]) -> None:
    columns = EVENT_COUNTERS + VISIT_COUNTERS
    rows = []
    # Sorted keys: two workers always lock shared rows in the same order, so they cannot deadlock.
    for key in sorted(changes):
        counters = changes[key]
        if any(counters.get(c) for c in columns):
            rows.append((*key, *(counters.get(c, 0) for c in columns)))
    if not rows:
        return
    table = DailyMetric._meta.db_table
    names = ", ".join(columns)
    # Increment in the database (not read-modify-write in Python) so concurrent batches add up.
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    placeholder = f"({', '.join(['%s'] * (4 + len(columns)))})"
    # Many rows per statement: one round trip per 500 rows instead of one per row.
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {table} (site_id, day, dimension, value, {names}) "
                f"VALUES {', '.join([placeholder] * len(chunk))} "
                f"ON CONFLICT (site_id, dimension, day, value) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )


def _insert_sets(rows: Iterable[Row]) -> None:
    visitors, page_visitors, places = set(), set(), set()
    for row in rows:
        site, day = row["site_id"], _day(row)
        visitor = visitor_hash(site_id=site, visitor=visitor_of(row))
        visitors.add((site, day, visitor))
        if _kind(row) == PAGE_VIEW:
            for page in page_keys(row["path"]):
                page_visitors.add((site, day, page_hash(path=page), visitor))
        if row.get("city") and row.get("latitude") is not None and row.get("longitude") is not None:
            places.add(
                (row.get("country") or "", row.get("region") or "", row["city"], row["latitude"], row["longitude"])
            )
    DailyVisitor.objects.bulk_create(
        [DailyVisitor(site_id=s, day=d, visitor=v) for s, d, v in sorted(visitors)], ignore_conflicts=True
    )
    DailyPageVisitor.objects.bulk_create(
        [DailyPageVisitor(site_id=s, day=d, page=p, visitor=v) for s, d, p, v in sorted(page_visitors)],
        ignore_conflicts=True,
    )
    if places:
        first_coordinates = {p[:3]: p[3:] for p in sorted(places)}
        Place.objects.bulk_create(
            [
                Place(country=c, region=r, city=t, latitude=la, longitude=lo)
                for (c, r, t), (la, lo) in first_coordinates.items()
            ],
            ignore_conflicts=True,
        )


def _lock_sessions(keys: list[tuple[int, str]]) -> None:
    """Serialise rollup updates per session on PostgreSQL (SQLite has one writer at a time).

    Without it two workers storing events of the same session at once would each see only their
    own rows and both count the visit as new.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "SELECT pg_advisory_xact_lock(%s)", [(_hash64(f"session:{s}:{k}"),) for s, k in sorted(keys)]
        )


def _session_events(keys: list[tuple[int, str]]) -> dict[tuple[int, str], list[dict[str, Any]]]:
    by_site: dict[int, list[str]] = defaultdict(list)
    for site, session in keys:
        by_site[site].append(session)
    found: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for site, sessions in by_site.items():
        for start in range(0, len(sessions), 500):
            chunk = sessions[start : start + 500]
            for event in Event.objects.filter(site_id=site, session_id__in=chunk).values(*SESSION_FIELDS):
                found[(site, event["session_id"])].append(event)
    return found


def record(*, rows: list[Row]) -> None:
    """Add newly stored events to the rollups; must run in the transaction that inserted them.

    `rows` must be exactly the rows this transaction inserted (no duplicates of stored events),
    already in the events table. Atomic with that insert, so rollups never count an event that was
    rolled back, nor miss one that was committed.
    """
    if not rows:
        return
    with transaction.atomic():
        changes: dict[Key, dict[str, float]] = {}
        _add(changes, event_contributions(rows))
        sessions = sorted({(row["site_id"], row["session_id"]) for row in rows})
        _lock_sessions(sessions)
        new_ids = {str(row["id"]) for row in rows}
        for events in _session_events(sessions).values():
            before = [e for e in events if str(e["id"]) not in new_ids]
            _add(changes, visit_contributions(events))
            _add(changes, visit_contributions(before), sign=-1)
        _upsert_metrics(changes)
        _insert_sets(rows)


def rebuild(*, site_id: int, batch_sessions: int = 2000, since: date | None = None) -> int:
    """Recompute one site's rollups from its raw events; returns the number of events read.

    Days before `since` (default: the oldest stored event; raw events before it were purged by
    `purge_events`) keep their rollups; every later day is deleted and recomputed — from all the
    events of every session that has an event on those days, so a visit that began earlier is
    still counted on its first day only. Atomic: readers see the old rollups until the new ones
    are complete. Meant for catch-up and repairs (after a restore, a late earlier visit, or a
    change in how a number is defined); storing events keeps rollups current without it.
    """
    fields = [*SESSION_FIELDS, "visitor_id", "event_name", "data", "latitude", "longitude"]
    read = 0
    oldest = Event.objects.filter(site_id=site_id).order_by("timestamp").values_list("timestamp", flat=True).first()
    if oldest is None:
        return 0
    since = max(since or oldest.date(), oldest.date())
    with transaction.atomic():
        for model in (DailyMetric, DailyVisitor, DailyPageVisitor):
            model.objects.filter(site_id=site_id, day__gte=since).delete()
        start = datetime.combine(since, time.min, tzinfo=UTC)
        sessions = (
            Event.objects.filter(site_id=site_id, timestamp__gte=start).values_list("session_id", flat=True).distinct()
        )
        last = None
        while True:
            page = sessions.order_by("session_id")
            if last is not None:
                page = page.filter(session_id__gt=last)
            chunk = list(page[:batch_sessions])
            if not chunk:
                break
            last = chunk[-1]
            events = list(Event.objects.filter(site_id=site_id, session_id__in=chunk).values(*fields))
            read += len(events)
            changes: dict[Key, dict[str, float]] = {}
            _add(changes, event_contributions(events))
            per_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for event in events:
                per_session[event["session_id"]].append(event)
            for session_events in per_session.values():
                _add(changes, visit_contributions(session_events))
            _upsert_metrics({key: counters for key, counters in changes.items() if key[1] >= since})
            _insert_sets(events)
    return read
