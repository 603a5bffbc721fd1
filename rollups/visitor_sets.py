"""Per-day visitor sets, stored as roaring bitmaps: the one place that reads and writes them.

A set holds the visitor numbers (`VisitorNumber`) seen on a site on one UTC day under one value of
one dimension (`total`, `page`, `course`, `tutorial_language`). Distinct visitors over a range
are the size of the union of its days' sets, computed here in Python by pyroaring: exact for any
range, and a 30-day range reads 30 small bitmaps per value instead of one row per visitor and day.

Writers hold `lock_site` (taken by `rollups.update` before it touches any rollup of the site):
PostgreSQL has no bitmap union of its own, so a set is read, merged and written back, and two
workers doing that to one set at once would each lose the other's members. SQLite has one writer
at a time and needs no lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from django.db import connection
from django.db.models import Q
from pyroaring import BitMap

from rollups import sql
from rollups.models import DailyVisitorSet, VisitorNumber

SetKey = tuple[int, date, str, str]  # site, day, dimension, value
# First key of PostgreSQL's two-key advisory locks taken here (the second is the site's pk).
_LOCK_SPACE = 0x7E5E
_CHUNK = 500
_TABLE = DailyVisitorSet._meta.db_table
_COLUMNS = [
    ("site_id", "int"),
    ("day", "date"),
    ("dimension", "text"),
    ("value", "text"),
    ("visitors", "int"),
    ("members", "bytes"),
]


def lock_site(*, site_id: int) -> None:
    """Make this transaction the only writer of the site's rollups until it ends (PostgreSQL).

    Taken before any rollup row of the site is written, so every writer locks in the same order
    (site, then rows) and two of them cannot wait on each other.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, site_id])


def numbers(*, site_id: int, visitors: Iterable[int]) -> dict[int, int]:
    """The number of each visitor hash of a site, giving new visitors the next free numbers.

    Call after `lock_site`: under that lock no one else hands out a number for this site, so each
    visitor gets exactly one (the unique key backs that up).
    """
    wanted = sorted(set(visitors))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(VisitorNumber.objects.filter(site_id=site_id, visitor__in=chunk).values_list("visitor", "id"))
    missing = [v for v in wanted if v not in found]
    if missing:
        # Inserted in hash order (not arrival order) so the numbers do not depend on a batch's order.
        # PostgreSQL and SQLite both return the new keys (RETURNING).
        created = VisitorNumber.objects.bulk_create(
            [VisitorNumber(site_id=site_id, visitor=v) for v in missing], batch_size=_CHUNK
        )
        found.update((row.visitor, row.id) for row in created)
    return found


def _load(members: bytes | memoryview) -> BitMap:
    return BitMap.deserialize(bytes(members))


def _dump(bitmap: BitMap) -> bytes:
    bitmap.run_optimize()
    return bitmap.serialize()


def _by_day_and_dimension(keys: Iterable[tuple[date, str, str]]) -> Q:
    grouped: dict[tuple[date, str], list[str]] = defaultdict(list)
    for day, dimension, value in keys:
        grouped[(day, dimension)].append(value)
    wanted = Q()
    for (day, dimension), values in sorted(grouped.items()):
        wanted |= Q(day=day, dimension=dimension, value__in=values)
    return wanted


def add(*, members: Mapping[SetKey, Iterable[int]]) -> None:
    """Add visitor numbers to the sets, creating the sets that do not exist yet.

    Idempotent (adding a member twice changes nothing) and order-independent. Must run inside the
    transaction that stored the events, after `lock_site` for every site named in `members`.
    """
    by_site: dict[int, dict[tuple[date, str, str], BitMap]] = defaultdict(dict)
    for (site, day, dimension, value), numbers_ in members.items():
        by_site[site][(day, dimension, value)] = BitMap(numbers_)
    for site, wanted in sorted(by_site.items()):
        keys = sorted(wanted)
        changed: list[tuple[int, int, bytes]] = []
        seen: set[tuple[date, str, str]] = set()
        for start in range(0, len(keys), _CHUNK):
            rows = DailyVisitorSet.objects.filter(_by_day_and_dimension(keys[start : start + _CHUNK]), site_id=site)
            for pk, day, dimension, value, size, stored in rows.values_list(
                "id", "day", "dimension", "value", "visitors", "members"
            ):
                key = (day, dimension, value)
                seen.add(key)
                merged = _load(stored) | wanted[key]
                if len(merged) != size:  # most page views add no new visitor to the day
                    changed.append((pk, len(merged), _dump(merged)))
        sql.update(table=_TABLE, key="id", columns=[("visitors", "int"), ("members", "bytes")], rows=changed)
        new = [(site, *key, len(wanted[key]), _dump(wanted[key])) for key in keys if key not in seen]
        sql.insert(table=_TABLE, columns=_COLUMNS, rows=new)


def replace(*, site_id: int, since: date, sets: Mapping[tuple[date, str, str], BitMap]) -> None:
    """Replace the site's sets of `since` and later days by `sets` (a rebuild; after `lock_site`)."""
    DailyVisitorSet.objects.filter(site_id=site_id, day__gte=since).delete()
    rows = [
        (site_id, day, dimension, value, len(bitmap), _dump(bitmap))
        for (day, dimension, value), bitmap in sorted(sets.items())
        if day >= since and bitmap
    ]
    # Bitmaps of busy days are large: a few thousand rows per statement keep each one modest.
    for start in range(0, len(rows), 2000):
        sql.insert(table=_TABLE, columns=_COLUMNS, rows=rows[start : start + 2000])


def distinct(*, site_id: int, dimension: str, values: Iterable[str], start: date, end: date) -> dict[str, int]:
    """Distinct visitors of each value from `start` to `end` (both included); absent values: 0."""
    values = list(values)
    found: dict[str, list[BitMap]] = defaultdict(list)
    if values:
        rows = DailyVisitorSet.objects.filter(
            site_id=site_id, dimension=dimension, value__in=values, day__gte=start, day__lte=end
        ).values_list("value", "members")
        for value, members in rows:
            found[value].append(_load(members))
    return {value: len(BitMap.union(*found[value])) if found[value] else 0 for value in values}


def distinct_per_bucket(*, site_id: int, start: date, end: date, bucket_of: Callable[[date], date]) -> dict[date, int]:
    """Distinct visitors of the whole site in each bucket (day, week, …) of the range.

    A one-day bucket reads the stored size; a longer one unions its days' bitmaps.
    """
    sets = DailyVisitorSet.objects.filter(site_id=site_id, dimension="total", value="", day__gte=start, day__lte=end)
    days_of: dict[date, list[date]] = defaultdict(list)
    sizes: dict[date, int] = {}
    for day, size in sets.values_list("day", "visitors"):
        days_of[bucket_of(day)].append(day)
        sizes[day] = size
    counts = {bucket: sizes[days[0]] for bucket, days in days_of.items() if len(days) == 1}
    longer = [day for days in days_of.values() if len(days) > 1 for day in days]
    maps: dict[date, list[BitMap]] = defaultdict(list)
    for day, members in sets.filter(day__in=longer).values_list("day", "members") if longer else ():
        maps[bucket_of(day)].append(_load(members))
    counts.update({bucket: len(BitMap.union(*bitmaps)) for bucket, bitmaps in maps.items()})
    return counts


def remove(*, members: Mapping[SetKey, Iterable[int]]) -> None:
    """Take visitor numbers out of their sets (an erasure); sets left empty are deleted.

    Must run after `lock_site` for every site named in `members`, like `add`.
    """
    by_site: dict[int, dict[tuple[date, str, str], BitMap]] = defaultdict(dict)
    for (site, day, dimension, value), numbers_ in members.items():
        by_site[site][(day, dimension, value)] = BitMap(numbers_)
    for site, unwanted in sorted(by_site.items()):
        keys = sorted(unwanted)
        changed: list[tuple[int, int, bytes]] = []
        emptied: list[int] = []
        for start in range(0, len(keys), _CHUNK):
            rows = DailyVisitorSet.objects.filter(_by_day_and_dimension(keys[start : start + _CHUNK]), site_id=site)
            for pk, day, dimension, value, stored in rows.values_list("id", "day", "dimension", "value", "members"):
                left = _load(stored) - unwanted[(day, dimension, value)]
                if left:
                    changed.append((pk, len(left), _dump(left)))
                else:
                    emptied.append(pk)
        sql.update(table=_TABLE, key="id", columns=[("visitors", "int"), ("members", "bytes")], rows=changed)
        DailyVisitorSet.objects.filter(pk__in=emptied).delete()


def forget_visitors(*, site_id: int, visitors: Iterable[int]) -> None:
    """Drop the numbers of visitor hashes that have no event left on the site (an erasure)."""
    VisitorNumber.objects.filter(site_id=site_id, visitor__in=list(visitors)).delete()
