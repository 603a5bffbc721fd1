"""Property: whatever events arrive, in whatever batches and order, the rollups say what raw events say.

Hypothesis makes random streams of events from a few clients — page views (tutorial pages too),
engagement reports, exit links, custom events, a host's GET and POST requests, including
duplicates of events already sent — cuts them into random batches in random order and stores
them through the one write path. Then, for every registered metric and dimension, the answer
read from the rollups must equal the answer computed from the raw events.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dashboard import queries
from dashboard.scope import parse_scope
from events import ingest
from events.models import DroppedEvents, Event, Session, Visitor
from rollups import definitions
from rollups.models import DailyMetric, DailyVisitorSet, VisitorNumber

pytestmark = pytest.mark.django_db

HOST = "learn.example.org"
PATHS = ["/", "/courses/", "/watch/BASH/Intro/English/", "/watch/BASH/Intro/Hindi/", "/watch/Python/Loops/Hindi/"]
CLIENTS = [
    (
        "49.36.0.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    ("81.2.69.142", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (
        "103.27.8.1",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    ),
    ("", ""),  # a backend that names no visitor
]
# Two days before today's midnight, so "yesterday" and "7d" both have visits on their edges.
BASE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
LAST_MINUTE = int((datetime.now(UTC) - BASE).total_seconds() // 60) - 1  # never in the future


def _body(kind: str, path: str, target: str) -> tuple[str, str, dict]:
    page = {"host": HOST, "path": path}
    if kind == "page_view":
        return "page_interaction", "page_view", page
    if kind == "engagement":
        return "page_interaction", "engagement", {**page, "engaged_seconds": 12}
    if kind == "exit_link":
        return "page_interaction", "exit_link", {**page, "href": f"https://{target}.example.com/"}
    if kind in ("GET", "POST", "HEAD"):
        return "server", "request", {**page, "method": kind, "status": 302 if target == "b" else 200}
    return "custom", "Signup-Pro", {"plan": target}


event_strategy: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    client=st.integers(min_value=0, max_value=len(CLIENTS) - 1),
    session=st.sampled_from(["a", "b", "c", "d", "e"]),
    minute=st.integers(min_value=0, max_value=LAST_MINUTE),
    kind=st.sampled_from(
        ["page_view", "page_view", "page_view", "engagement", "exit_link", "GET", "POST", "HEAD", "custom"]
    ),
    path=st.sampled_from(PATHS),
    target=st.sampled_from(["a", "b"]),
)


def _events(specs: list[dict]) -> list[tuple[int, dict]]:
    found = []
    for spec in specs:
        ip, agent = CLIENTS[spec["client"]]
        category, name, data = _body(spec["kind"], spec["path"], spec["target"])
        event = {
            "id": str(uuid.uuid4()),
            "session_id": f"{spec['client']}-{spec['session']}",
            "category": category,
            "name": name,
            "data": data,
            "timestamp": (BASE + timedelta(minutes=spec["minute"])).isoformat(),
        }
        if agent:
            event |= {"ip": ip, "user_agent": agent, "visitor_id": f"visitor-{spec['client']}"}
        found.append((spec["client"], event))
    return found


def _clear(site) -> None:
    for model in (Event, Session, Visitor, DroppedEvents, DailyMetric, DailyVisitorSet, VisitorNumber):
        model.objects.filter(site=site).delete()


def _scope(period: str, source: str):
    params = QueryDict(mutable=True)
    params.update({"period": period})
    return parse_scope(params=params).with_source(source)


def _store(site, specs, cuts, order, resend) -> list[tuple[int, dict]]:
    _clear(site)
    site.allow_custom_events = True
    site.save(update_fields=["allow_custom_events"])
    events = _events(specs)
    order.shuffle(events)
    events += events[:resend]  # at-least-once delivery: some events arrive twice
    sender = ingest.Sender(source="test", trusted=True, visitor=False)
    start = 0
    for size in cuts * (len(events) // max(1, sum(cuts)) + 1):
        batch = list({event["id"]: event for _, event in events[start : start + size]}.values())
        if not batch:
            break
        ingest.accept(site=site, payload=[dict(e) for e in batch], sender=sender, direct=True)
        start += size
    assert Event.objects.filter(site=site).count() == len({e["id"] for _, e in events})
    return events


def _assert_rollups_equal_raw_events() -> None:
    for period in ("yesterday", "7d"):
        rollups, raw = _scope(period, "rollups"), _scope(period, "raw")
        assert queries.totals(scope=rollups) == queries.totals(scope=raw), period
        assert queries.trend(scope=rollups) == queries.trend(scope=raw), period
        for name in definitions.VISIT_DIMENSIONS:
            if name != "total":
                by_rollups = queries.visits_by(scope=rollups, dimension=name, limit=100)
                assert by_rollups == queries.visits_by(scope=raw, dimension=name, limit=100), (period, name)
        for name, dimension in definitions.EVENT_DIMENSIONS.items():
            kwargs: dict[str, Any] = {"dimension": name, "limit": 100, "with_visitors": dimension.visitor_sets}
            assert queries.counts_by(scope=rollups, **kwargs) == queries.counts_by(scope=raw, **kwargs), (period, name)


streams = {
    "specs": st.lists(event_strategy, min_size=1, max_size=40),
    "cuts": st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=8),
    "order": st.randoms(use_true_random=False),
    "resend": st.integers(min_value=0, max_value=5),
}
# No shrinking: each example stores events through the worker's path, and shrinking one would take
# minutes; the failing example is printed whole instead.
examples = settings(
    max_examples=int(os.environ.get("THE_EYE_PROPERTY_EXAMPLES", "12")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@examples
@given(**streams)
def test_rollups_equal_raw_events_for_every_metric_and_dimension(site, specs, cuts, order, resend):
    _store(site, specs, cuts, order, resend)
    _assert_rollups_equal_raw_events()


@examples
@given(**streams, who=st.sampled_from([("visitor", "visitor-0"), ("visitor", "visitor-2"), ("session", "3-a")]))
def test_after_an_erasure_rollups_still_equal_the_remaining_raw_events(site, specs, cuts, order, resend, who):
    from events.erasure import Subject, erase

    _store(site, specs, cuts, order, resend)
    subject = Subject(*who)
    column = "visitor_id" if subject.kind == "visitor" else "session_id"
    others = Event.objects.exclude(**{column: subject.value}).exclude(
        visit_id__in=Event.objects.filter(**{column: subject.value}).values("visit_id")
    )
    kept = set(others.values_list("id", flat=True))
    erase(subject=subject)
    assert not Event.objects.filter(**{column: subject.value}).exists()
    assert set(Event.objects.values_list("id", flat=True)) == kept  # neighbours untouched
    _assert_rollups_equal_raw_events()
    assert erase(subject=subject).events == 0  # idempotent
