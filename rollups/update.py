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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from datetime import UTC, date, datetime, time
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import transaction
from django.db.models import Q
from pyroaring import BitMap

from events.models import Event
from rollups import definitions, sql, visitor_sets
from rollups.definitions import Role
from rollups.models import DailyMetric, Place

Row = Mapping[str, Any]
Key = tuple[int, date, str, str]  # site, day, dimension, value

EVENT_COUNTERS = ("events", "pageviews", "engaged_seconds")
VISIT_COUNTERS = ("visits", "bounces", "duration", "visit_pageviews")
# Event columns a visit's contributions need.
SESSION_FIELDS = ["id", "site_id", "visit_id", "timestamp", "role", "path", *definitions.VISIT_ATTRIBUTES]


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def visitor_hash(*, site_id: int, visitor: str) -> int:
    """The 64-bit key a visitor is counted under in the per-day visitor sets."""
    return _hash64(f"{site_id}:{visitor}")


def set_keys(row: Row) -> list[tuple[str, str]]:
    """(dimension, value) of each visitor set an event adds its visitor to.

    Every event counts its visitor for the site's day; an event that counts under a dimension
    with visitor sets (a page view: its page, course, tutorial language) also for that value.
    """
    keys = [("total", "")]
    for dimension in definitions.EVENT_DIMENSIONS.values():
        if dimension.visitor_sets and dimension.of_event is not None:
            value = dimension.of_event(row)
            if value is not None:
                keys.append((dimension.name, value))
    return keys


def visitor_of(row: Row) -> str:
    """Who an event counts for: its visitor id, or its session when the sender gave none."""
    return str(row.get("visitor_id") or row["session_id"])


def _day(row: Row) -> date:
    return row["timestamp"].date()


def event_contributions(rows: Iterable[Row]) -> dict[Key, dict[str, float]]:
    """Event counters the rows add, keyed by (site, day, dimension, value)."""
    totals: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(EVENT_COUNTERS, 0))
    dimensions = [d for d in definitions.EVENT_DIMENSIONS.values() if d.of_event is not None]
    for row in rows:
        site, day = row["site_id"], _day(row)
        total = totals[(site, day, "total", "")]
        total["events"] += 1
        if row["role"] == Role.PAGE_VIEW:
            total["pageviews"] += 1
        elif row["role"] == Role.ENGAGEMENT:
            totals[(site, day, "page", row["path"])]["engaged_seconds"] += float(
                (row.get("data") or {}).get("engaged_seconds") or 0
            )
        for dimension in dimensions:
            value = dimension.of_event(row)  # type: ignore[misc]
            if value is not None:
                totals[(site, day, dimension.name, value)][dimension.counter] += 1
    return totals


def visit_contributions(events: Sequence[Row]) -> dict[Key, dict[str, int]]:
    """What one visit's events add to the visit counters (empty for no events).

    The visit starts at its earliest event (ties broken by id) and is counted on that day, under
    that event's dimension values; it bounces when it has at most one page view and no
    interaction; it lasts from its first to its last event; it enters at its first page view and
    exits at its last. `events.sessions` keeps the same definitions per visit.
    """
    if not events:
        return {}
    ordered = sorted(events, key=lambda e: (e["timestamp"], str(e["id"])))
    first, last = ordered[0], ordered[-1]
    views = [e for e in ordered if e["role"] == Role.PAGE_VIEW]
    interactions = sum(1 for e in ordered if e["role"] == Role.INTERACTION)
    counters = {
        "visits": 1,
        "bounces": 1 if len(views) < 2 and not interactions else 0,
        "duration": int((last["timestamp"] - first["timestamp"]).total_seconds()),
        "visit_pageviews": len(views),
    }
    site, day = first["site_id"], _day(first)
    keys = [
        (site, day, d.name, d.of_first(first)) for d in definitions.VISIT_DIMENSIONS.values() if d.of_first is not None
    ]
    if views:
        keys += [(site, day, "entry", views[0]["path"]), (site, day, "exit", views[-1]["path"])]
    return {key: counters for key in keys}


def _add(into: dict[Key, dict[str, float]], part: Mapping[Key, Mapping[str, float]], sign: int = 1) -> None:
    for key, counters in part.items():
        target = into.setdefault(key, {})
        for name, value in counters.items():
            target[name] = target.get(name, 0) + sign * value


_METRIC_COLUMNS = [
    ("site_id", "int"),
    ("day", "date"),
    ("dimension", "text"),
    ("value", "text"),
    *((c, "float" if c == "engaged_seconds" else "int") for c in EVENT_COUNTERS + VISIT_COUNTERS),
]


def _upsert_metrics(changes: Mapping[Key, Mapping[str, float]]) -> None:
    counters = EVENT_COUNTERS + VISIT_COUNTERS
    rows = []
    # Sorted keys: shared rows are always locked in the same order.
    for key in sorted(changes):
        change = changes[key]
        if any(change.get(c) for c in counters):
            rows.append(
                (
                    *key,
                    *(float(change.get(c, 0)) if c == "engaged_seconds" else int(change.get(c, 0)) for c in counters),
                )
            )
    table = DailyMetric._meta.db_table
    # Increment in the database (not read-modify-write in Python) so concurrent batches add up.
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    sql.insert(
        table=table,
        columns=_METRIC_COLUMNS,
        rows=rows,
        on_conflict=f"ON CONFLICT (site_id, dimension, day, value) DO UPDATE SET {updates}",
    )


def _set_members(rows: Iterable[Row], since: date | None = None) -> dict[visitor_sets.SetKey, set[int]]:
    """The visitor numbers the rows add to each visitor set (days before `since` left out)."""
    rows = [row for row in rows if since is None or _day(row) >= since]
    hashes = [visitor_hash(site_id=row["site_id"], visitor=visitor_of(row)) for row in rows]
    per_site: dict[int, set[int]] = defaultdict(set)
    for row, visitor in zip(rows, hashes, strict=True):
        per_site[row["site_id"]].add(visitor)
    numbers = {site: visitor_sets.numbers(site_id=site, visitors=found) for site, found in sorted(per_site.items())}
    members: dict[visitor_sets.SetKey, set[int]] = defaultdict(set)
    for row, visitor in zip(rows, hashes, strict=True):
        site, day = row["site_id"], _day(row)
        number = numbers[site][visitor]
        for dimension, value in set_keys(row):
            members[(site, day, dimension, value)].add(number)
    return members


def _insert_places(rows: Iterable[Row]) -> None:
    places = set()
    for row in rows:
        if row.get("city") and row.get("latitude") is not None and row.get("longitude") is not None:
            places.add(
                (row.get("country") or "", row.get("region") or "", row["city"], row["latitude"], row["longitude"])
            )
    if places:
        first_coordinates = {p[:3]: p[3:] for p in sorted(places)}
        Place.objects.bulk_create(
            [
                Place(country=c, region=r, city=t, latitude=la, longitude=lo)
                for (c, r, t), (la, lo) in sorted(first_coordinates.items())
            ],
            ignore_conflicts=True,
        )


def _session_events(
    keys: list[tuple[int, str]], *, fields: list[str] = SESSION_FIELDS
) -> dict[tuple[int, str], list[dict[str, Any]]]:
    by_site: dict[int, list[str]] = defaultdict(list)
    for site, visit in keys:
        by_site[site].append(visit)
    found: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for site, visits in by_site.items():
        for start in range(0, len(visits), 500):
            chunk = visits[start : start + 500]
            for event in Event.objects.filter(site_id=site, visit_id__in=chunk).values(*fields):
                found[(site, event["visit_id"])].append(event)
    return found


def record(*, rows: Sequence[Row], relabelled: Set[str] = frozenset()) -> None:
    """Add newly stored events to the rollups; must run in the transaction that inserted them.

    `rows` must be exactly the rows this transaction inserted (no duplicates of stored events),
    already in the events table. `relabelled` names stored visits of the rows' site that this
    transaction turned from first-time into returning (a late-arriving earlier visit): they move
    from "new" to "returning". Atomic with that insert, so rollups never count an event that was
    rolled back, nor miss one that was committed.
    """
    if not rows:
        return
    with transaction.atomic():
        # One writer of a site's rollups at a time (PostgreSQL): without it two workers storing
        # events of one visit would each see only their own rows and both count the visit as new,
        # and two merges of one visitor set would lose each other's members.
        for site in sorted({row["site_id"] for row in rows}):
            visitor_sets.lock_site(site_id=site)
        changes: dict[Key, dict[str, float]] = {}
        _add(changes, event_contributions(rows))
        site_id = rows[0]["site_id"]
        sessions = sorted({(row["site_id"], row["visit_id"]) for row in rows} | {(site_id, v) for v in relabelled})
        new_ids = {str(row["id"]) for row in rows}
        for (_site, visit), events in _session_events(sessions).items():
            before = [e for e in events if str(e["id"]) not in new_ids]
            if visit in relabelled:  # counted as a first visit until now
                before = [{**e, "is_new_visitor": True} for e in before]
            _add(changes, visit_contributions(events))
            _add(changes, visit_contributions(before), sign=-1)
        _upsert_metrics(changes)
        visitor_sets.add(members=_set_members(rows))
        _insert_places(rows)


REBUILD_FIELDS = [
    *SESSION_FIELDS,
    "session_id",
    "visitor_id",
    "category",
    "name",
    "event_name",
    "data",
    "latitude",
    "longitude",
]


def _sessions(events: Iterator[dict[str, Any]], *, size: int) -> Iterator[list[list[dict[str, Any]]]]:
    """Events ordered by session, in chunks of whole sessions of about `size` events."""
    chunk: list[list[dict[str, Any]]] = []
    count = 0
    for _visit, group in groupby(events, key=itemgetter("visit_id")):
        chunk.append(list(group))
        count += len(chunk[-1])
        if count >= size:
            yield chunk
            chunk, count = [], 0
    if chunk:
        yield chunk


def rebuild(*, site_id: int, since: date | None = None, chunk_events: int = 5000) -> int:
    """Recompute one site's rollups from its raw events; returns the number of events read.

    Days before `since` (default: the oldest stored event; raw events before it were purged by
    `purge_events`) keep their rollups; every later day is recomputed — from all the events of
    every session that has an event on those days, so a visit that began earlier is still counted
    on its first day only. One pass over the events in session order, with the new rollups kept
    in memory (they are small: rows per day × dimension value) and written at the end. Atomic:
    readers see the old rollups until the new ones are complete, and storing events for the site
    waits for it. Meant for catch-up and repairs (after a restore, a late earlier visit, or a
    change in how a number is defined); storing events keeps rollups current without it.
    """
    oldest = Event.objects.filter(site_id=site_id).order_by("timestamp").values_list("timestamp", flat=True).first()
    if oldest is None:
        return 0
    since = max(since or oldest.date(), oldest.date())
    read = 0
    with transaction.atomic():
        visitor_sets.lock_site(site_id=site_id)
        DailyMetric.objects.filter(site_id=site_id, day__gte=since).delete()
        events = Event.objects.filter(site_id=site_id)
        if since > oldest.date():
            start = datetime.combine(since, time.min, tzinfo=UTC)
            touched = Event.objects.filter(site_id=site_id, timestamp__gte=start).values("visit_id")
            events = events.filter(visit_id__in=touched)
        stream = events.order_by("visit_id").values(*REBUILD_FIELDS).iterator(chunk_size=chunk_events)
        changes: dict[Key, dict[str, float]] = {}
        sets: dict[tuple[date, str, str], BitMap] = defaultdict(BitMap)
        for sessions in _sessions(stream, size=chunk_events):
            rows = [event for session in sessions for event in session]
            read += len(rows)
            _add(changes, event_contributions(rows))
            for session in sessions:
                _add(changes, visit_contributions(session))
            for (_site, day, dimension, value), numbers in _set_members(rows, since=since).items():
                sets[(day, dimension, value)].update(numbers)
            _insert_places(rows)
        _upsert_metrics({key: counters for key, counters in changes.items() if key[1] >= since})
        visitor_sets.replace(site_id=site_id, since=since, sets=sets)
    return read


def forget(*, site_id: int, visit_ids: set[str], delete: Callable[[], None]) -> int:
    """Take whole visits out of the rollups while `delete()` removes their events (an erasure).

    In one transaction, as the only writer of the site's rollups: subtracts every counter the
    visits' events added (event and visit counters alike), calls `delete()`, then takes each
    affected visitor out of every day's set it no longer belongs to — a visitor with other events
    left that day, page or course stays in. Afterwards the rollups say what the remaining raw
    events say, as if the visits had never been sent. Returns the number of events forgotten.
    """
    with transaction.atomic():
        visitor_sets.lock_site(site_id=site_id)
        visits = _session_events([(site_id, visit) for visit in sorted(visit_ids)], fields=REBUILD_FIELDS)
        rows = [event for events in visits.values() for event in events]
        changes: dict[Key, dict[str, float]] = {}
        _add(changes, event_contributions(rows), sign=-1)
        for events in visits.values():
            _add(changes, visit_contributions(events), sign=-1)
        _upsert_metrics(changes)
        erased = _set_hashes(rows)
        delete()
        people = {visitor_of(row) for row in rows}
        days = sorted({key[0] for key in erased})
        left = Event.objects.filter(site_id=site_id, timestamp__date__in=days).filter(
            Q(visitor_id__in=people) | Q(visitor_id="", session_id__in=people)
        )
        kept = _set_hashes(left.values("site_id", "timestamp", "visitor_id", "session_id", "role", "path"))
        gone: dict[visitor_sets.SetKey, set[int]] = {}
        hashes = {visitor for members in erased.values() for visitor in members}
        numbers = visitor_sets.numbers(site_id=site_id, visitors=hashes) if hashes else {}
        for key, members in erased.items():
            unwanted = {numbers[visitor] for visitor in members - kept.get(key, set())}
            if unwanted:
                gone[(site_id, *key)] = unwanted
        visitor_sets.remove(members=gone)
        anywhere = Event.objects.filter(site_id=site_id).filter(
            Q(visitor_id__in=people) | Q(visitor_id="", session_id__in=people)
        )
        still_seen = {
            visitor_hash(site_id=site_id, visitor=visitor_of(e)) for e in anywhere.values("visitor_id", "session_id")
        }
        visitor_sets.forget_visitors(site_id=site_id, visitors=hashes - still_seen)
    return len(rows)


def _set_hashes(rows: Iterable[Row]) -> dict[tuple[date, str, str], set[int]]:
    """The visitor hashes each (day, dimension, value) set holds because of these rows."""
    found: dict[tuple[date, str, str], set[int]] = defaultdict(set)
    for row in rows:
        visitor = visitor_hash(site_id=row["site_id"], visitor=visitor_of(row))
        for dimension, value in set_keys(row):
            found[(_day(row), dimension, value)].add(visitor)
    return found
