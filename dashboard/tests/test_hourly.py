"""One-day ranges are drawn by the hour, from raw events, with empty hours kept."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.http import QueryDict

from dashboard.hourly import hourly_trend
from dashboard.scope import parse_scope
from dashboard.tests.factories import CHROME_DESKTOP, MUMBAI, visit

pytestmark = pytest.mark.django_db


def test_yesterday_has_24_hours_with_its_visits_in_the_hours_they_happened(site):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    at = lambda hour, minute: datetime.combine(yesterday, time(hour, minute), tzinfo=UTC)  # noqa: E731
    visit(site, visitor="v1", start=at(3, 10), paths=["/", "/a/", "/b/"], ip=MUMBAI, agent=CHROME_DESKTOP)
    visit(site, visitor="v2", start=at(15, 0), paths=["/"], ip=MUMBAI, agent=CHROME_DESKTOP)
    points = hourly_trend(scope=parse_scope(params=QueryDict("period=yesterday")))
    assert [p.bucket for p in points] == [at(h, 0) for h in range(24)]
    by_hour = {p.bucket.hour: (p.visitors, p.visits, p.pageviews) for p in points}
    assert by_hour[3] == (1, 1, 3) and by_hour[15] == (1, 1, 1)
    assert sum(p.pageviews for p in points) == 4


def test_today_stops_at_the_current_hour_and_the_overview_shows_a_table_per_hour(site, client, staff_user):
    before = datetime.now(UTC).hour
    points = hourly_trend(scope=parse_scope(params=QueryDict("period=today")))
    assert len(points) - 1 in (before, datetime.now(UTC).hour)  # the hour may turn meanwhile
    client.force_login(staff_user)
    body = client.get("/dashboard/?period=today").content.decode()
    assert "Per hour" in body and "Hour (UTC)" in body and "Visitors, visits and page views per hour" in body
