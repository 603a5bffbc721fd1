"""Every number the pages and the stats API show equals the same number computed from raw events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

import pytest
from django.http import QueryDict

from dashboard import queries
from dashboard.scope import parse_scope
from dashboard.tests.factories import known_traffic
from events.models import Event
from rollups import definitions

pytestmark = pytest.mark.django_db

PERIODS = ["today", "yesterday", "7d", "30d"]


@pytest.fixture
def traffic(site):
    return known_traffic(site)


def scope_for(period: str, grain: str = "day", **filters: str):
    params = QueryDict(mutable=True)
    params.update({"period": period, "grain": grain, **filters})
    return parse_scope(params=params)


def python_totals(site, start, end) -> dict:
    """The overview's numbers by hand from raw events, without SQL aggregates."""
    events = list(Event.objects.filter(site=site).order_by("timestamp", "id"))
    in_range = [e for e in events if start <= e.timestamp.date() <= end]
    sessions = defaultdict(list)
    for e in events:
        sessions[e.visit_id].append(e)
    visits = [s for s in sessions.values() if start <= s[0].timestamp.date() <= end]
    views = lambda s: [e for e in s if (e.category, e.name) == ("page_interaction", "page_view")]  # noqa: E731
    acts = lambda s: [e for e in s if e.name not in ("page_view", "engagement")]  # noqa: E731
    return {
        "visitors": len({e.visitor_id or e.session_id for e in in_range}),
        "pageviews": sum(1 for e in in_range if e.name == "page_view"),
        "visits": len(visits),
        "bounces": sum(1 for s in visits if len(views(s)) < 2 and not acts(s)),
        "duration": sum(int((s[-1].timestamp - s[0].timestamp).total_seconds()) for s in visits),
        "visit_pageviews": sum(len(views(s)) for s in visits),
    }


@pytest.mark.parametrize("period", PERIODS)
def test_overview_totals_equal_a_count_by_hand_over_raw_events(traffic, site, period):
    scope = scope_for(period)
    expected = python_totals(site, scope.start, scope.end)
    for source in ("rollups", "raw"):
        got = queries.totals(scope=scope.with_source(source))
        assert {k: getattr(got, k) for k in expected} == expected, source


def test_unique_visitors_over_a_week_are_distinct_people_not_a_sum_of_days(traffic):
    week = queries.totals(scope=scope_for("7d"))
    daily = queries.trend(scope=scope_for("7d"))
    assert week.visitors == 6
    assert sum(p.visitors for p in daily) > week.visitors


@pytest.mark.parametrize("grain", ["day", "week", "month", "year"])
def test_trend_from_rollups_equals_trend_from_raw_events(traffic, grain):
    scope = scope_for("30d", grain)
    assert queries.trend(scope=scope.with_source("rollups")) == queries.trend(scope=scope.with_source("raw"))


@pytest.mark.parametrize("dimension", [d for d in definitions.VISIT_DIMENSIONS if d != "total"])
@pytest.mark.parametrize("period", ["yesterday", "7d"])
def test_every_visit_breakdown_from_rollups_equals_raw_events(traffic, dimension, period):
    scope = scope_for(period)
    rollup = queries.visits_by(scope=scope.with_source("rollups"), dimension=dimension, limit=50)
    raw = queries.visits_by(scope=scope.with_source("raw"), dimension=dimension, limit=50)
    assert rollup == raw
    assert sum(r.visits for r in rollup) == queries.totals(scope=scope).visits


@pytest.mark.parametrize(
    "dimension",
    list(definitions.EVENT_DIMENSIONS),
)
def test_every_count_breakdown_from_rollups_equals_raw_events(traffic, dimension):
    scope = scope_for("7d")
    visitors = definitions.EVENT_DIMENSIONS[dimension].visitor_sets
    rollup = queries.counts_by(
        scope=scope.with_source("rollups"), dimension=dimension, limit=50, with_visitors=visitors
    )
    raw = queries.counts_by(scope=scope.with_source("raw"), dimension=dimension, limit=50, with_visitors=visitors)
    assert rollup == raw
    assert rollup


def test_known_numbers_of_the_fixture(traffic):
    scope = scope_for("7d")
    pages = {r.value: r for r in queries.counts_by(scope=scope, dimension="page", limit=50, with_visitors=True)}
    assert pages["/"].count == 7
    assert pages["/watch/Python/Loops/Hindi/"].visitors == 2
    assert pages["/watch/Python/Loops/Hindi/"].average_time == 21.0
    countries = {r.value: r.visits for r in queries.visits_by(scope=scope, dimension="country")}
    assert countries == {"IN": 9, "GB": 2}
    channels = {r.value: r.visits for r in queries.visits_by(scope=scope, dimension="channel")}
    assert channels["search"] == 2 and channels["social"] == 1
    courses = {r.value: r for r in queries.counts_by(scope=scope, dimension="course", with_visitors=True)}
    assert (courses["Python"].count, courses["Python"].visitors) == (4, 3)


def test_a_visit_past_midnight_counts_on_the_day_it_started(traffic, site):
    yesterday = queries.trend(scope=scope_for("7d"))[-2]
    two_days_ago = queries.trend(scope=scope_for("7d"))[-3]
    assert two_days_ago.visits == 3 and yesterday.visits == 4


def test_a_filtered_scope_reads_events_and_agrees_with_rollups_for_its_one_value(traffic):
    scope = scope_for("7d", country="GB")
    assert not scope.uses_rollups
    assert queries.totals(scope=scope).visits == next(
        r.visits for r in queries.visits_by(scope=scope_for("7d"), dimension="country") if r.value == "GB"
    )


def test_the_previous_period_has_the_same_length_and_ends_the_day_before(traffic):
    scope = scope_for("7d")
    previous = scope.previous()
    assert previous.days == 7 and previous.end == scope.start - timedelta(days=1)
    assert queries.compare(scope=scope).previous == queries.Totals()
    assert replace(scope, period="custom").query().count("from=") == 1


def test_a_late_earlier_visit_relabels_later_visits_as_returning_after_the_rollup_rebuild(traffic, site):
    from dashboard.tests.factories import CHROME_DESKTOP, MUMBAI, visit
    from rollups.update import rebuild

    scope = scope_for("7d")
    visit(site, visitor="v4", start=scope.start_at() + timedelta(days=1), paths=["/"], ip=MUMBAI, agent=CHROME_DESKTOP)
    rebuild(site_id=site.pk)
    raw = queries.visits_by(scope=scope.with_source("raw"), dimension="visitor_type")
    assert queries.visits_by(scope=scope, dimension="visitor_type") == raw
    assert {r.value: r.visits for r in raw}["new"] == 6
