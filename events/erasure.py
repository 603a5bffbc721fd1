"""What The Eye holds about one person, found and erased: the events app's part of a subject request.

A *subject* is named the way a person or an administrator can name one: a user name (what the
middleware and the learner pages record), a visitor id (the tracker's or the middleware's cookie,
or a cookieless hash), or the session id a client sent. The subject's *visits* are every visit
with one of their events, and — for a user or a visitor — every visit of a visitor id seen with
them, since a browser's visits before signing in are the same person's.

`erase()` is the one write path that deletes events: it removes those visits' events, their
sessions, and the visitors left with no event, and has `rollups.update.forget()` correct every
rollup and visitor set in the same transaction. It is idempotent: a second run finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from events.models import Event, Session, Visitor
from rollups import update as rollups

KINDS = ("user", "visitor", "session")


@dataclass(frozen=True)
class Subject:
    """Whose data: `kind` is user, visitor or session; `value` the name, visitor id or session id."""

    kind: str
    value: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a subject is a {', '.join(KINDS)}, not {self.kind!r}")
        if not self.value or "\x00" in self.value or len(self.value) > 150:
            raise ValueError("a subject needs a value of 1 to 150 characters")


def _direct(subject: Subject) -> Q:
    column = {"user": "user", "visitor": "visitor_id", "session": "session_id"}[subject.kind]
    return Q(**{column: subject.value})


def visits_of(subject: Subject) -> dict[int, set[str]]:
    """The subject's visits, per site (site pk → visit ids)."""
    direct = Event.objects.filter(_direct(subject))
    found: dict[int, set[str]] = defaultdict(set)
    for site_id, visit_id in direct.values_list("site_id", "visit_id").distinct():
        found[site_id].add(visit_id)
    if subject.kind != "session":
        visitors: dict[int, set[str]] = defaultdict(set)
        for site_id, visitor in direct.exclude(visitor_id="").values_list("site_id", "visitor_id").distinct():
            visitors[site_id].add(visitor)
        for site_id, ids in visitors.items():
            same_browser = Event.objects.filter(site_id=site_id, visitor_id__in=sorted(ids))
            found[site_id].update(same_browser.values_list("visit_id", flat=True).distinct())
    return dict(found)


def events_of(subject: Subject) -> QuerySet[Event]:
    """Every event of the subject's visits, oldest first."""
    visits = visits_of(subject)
    wanted = Q(pk__in=[])
    for site_id, visit_ids in visits.items():
        wanted |= Q(site_id=site_id, visit_id__in=sorted(visit_ids))
    return Event.objects.filter(wanted).order_by("timestamp", "id")


def sessions_of(subject: Subject) -> QuerySet[Session]:
    visits = visits_of(subject)
    wanted = Q(pk__in=[])
    for site_id, visit_ids in visits.items():
        wanted |= Q(site_id=site_id, visit_id__in=sorted(visit_ids))
    return Session.objects.filter(wanted).order_by("started_at")


@dataclass
class Erased:
    events: int = 0
    visits: int = 0
    visitors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "visits": self.visits, "visitors": self.visitors}


def erase(*, subject: Subject) -> Erased:
    """Delete the subject's events, visits and visitor rows, correcting every rollup; idempotent.

    One transaction per site: a failure leaves that site as it was, and a rerun finishes the job.
    """
    result = Erased()
    for site_id, visit_ids in sorted(visits_of(subject).items()):
        with transaction.atomic():
            events = Event.objects.filter(site_id=site_id, visit_id__in=sorted(visit_ids))
            visitor_ids = set(events.exclude(visitor_id="").values_list("visitor_id", flat=True).distinct())

            def delete(site_id: int = site_id, visit_ids: set[str] = visit_ids) -> None:
                Event.objects.filter(site_id=site_id, visit_id__in=sorted(visit_ids)).delete()
                result.visits += Session.objects.filter(site_id=site_id, visit_id__in=sorted(visit_ids)).delete()[0]

            result.events += rollups.forget(site_id=site_id, visit_ids=visit_ids, delete=delete)
            still_seen = set(
                Event.objects.filter(site_id=site_id, visitor_id__in=sorted(visitor_ids)).values_list(
                    "visitor_id", flat=True
                )
            )
            gone = Visitor.objects.filter(site_id=site_id, visitor_id__in=sorted(visitor_ids - still_seen))
            result.visitors += gone.delete()[0]
    return result
