"""Exports hold every row of their table for the range, numbers as numbers, in a file named for it."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict

from dashboard import pages
from dashboard.scope import parse_scope
from dashboard.tests.factories import CHROME_DESKTOP, HOST, LONDON, MUMBAI, known_traffic
from events import ingest

pytestmark = pytest.mark.django_db

PAGES_COUNT = 30  # more than the 20 top pages on screen
LANGUAGES = 12  # more than the 10 languages on screen


@pytest.fixture
def many(site):
    """Known traffic plus 30 one-page visits, each to its own page in its own language."""
    now = known_traffic(site)
    start = now.replace(hour=0, minute=0, second=0) - timedelta(days=1)
    for i in range(PAGES_COUNT):
        event = {
            "id": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
            "visitor_id": f"many-{i}",
            "category": "page_interaction",
            "name": "page_view",
            "data": {"host": HOST, "path": f"/lesson-{i:02d}/"},
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
            "url": f"https://{HOST}/lesson-{i:02d}/",
            "language": f"xx-{i % LANGUAGES:02d}",
        }
        sender = ingest.Sender(ip=MUMBAI if i % 2 else LONDON, user_agent=CHROME_DESKTOP, source="test", trusted=True)
        ingest.accept(site=site, payload=[event], sender=sender, direct=True)
    return now


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def export(client, page: str, table: str, fmt: str = "csv") -> tuple[list[dict[str, str]], str]:
    response = client.get(f"/dashboard/{page}/", {"period": "7d", "export": fmt, "table": table})
    assert response.status_code == 200, response.content
    delimiter = "," if fmt == "csv" else "\t"
    rows = list(csv.DictReader(io.StringIO(response.content.decode()), delimiter=delimiter))
    return rows, response["Content-Disposition"]


def api_rows(client, dimension: str) -> list[dict]:
    metric = "pageviews" if dimension == "page" else "visits"
    query = {"period": "7d", "dimension": dimension, "metrics": metric, "limit": 1000}
    response = client.get("/api/stats/", query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_top_pages_export_holds_every_page_the_stats_api_lists(staff_client, many):
    rows, _ = export(staff_client, "pages", "pages")
    assert "/lesson-29/" in {r["Page"] for r in rows}
    assert len(rows) == len(api_rows(staff_client, "page")) > 25
    on_screen = pages.pages(parse_scope(params=QueryDict("period=7d"))).table("pages")
    assert on_screen is not None and len(on_screen.rows) == 20  # the screen keeps its short list


@pytest.mark.parametrize("table,dimension", [("language", "browser_language"), ("browser", "browser")])
def test_an_audience_export_holds_every_row_the_stats_api_lists(staff_client, many, table, dimension):
    rows, _ = export(staff_client, "audience", table)
    assert len(rows) == len(api_rows(staff_client, dimension)) > 0
    if table == "language":
        assert len(rows) > 10  # more than the screen's ten


@pytest.mark.parametrize("table,dimension", [("countries", "country"), ("regions", "region"), ("cities", "city")])
def test_a_geography_export_holds_every_row_the_stats_api_lists(staff_client, many, table, dimension):
    rows, _ = export(staff_client, "geography", table)
    assert len(rows) == len(api_rows(staff_client, dimension)) > 0


def test_durations_and_ratios_are_plain_numbers_with_their_unit_in_the_header(staff_client, many):
    rows, _ = export(staff_client, "audience", "browser", fmt="tsv")
    assert list(rows[0]) == ["Browser", "Visits", "Page views", "Bounce rate (ratio)", "Avg. visit (s)"]
    for row in rows:
        assert 0 <= float(row["Bounce rate (ratio)"]) <= 1
        assert float(row["Avg. visit (s)"]) >= 0
    sessions, _ = export(staff_client, "visitors", "sessions")
    assert any(float(s["Duration (s)"]) >= 60 for s in sessions)  # once shown as "1m 00s", now 60


def test_the_page_shows_the_same_numbers_formatted(staff_client, many):
    body = staff_client.get("/dashboard/visitors/?period=7d").content.decode()
    assert re.search(r'<td class="num">\d+m \d{2}s</td>', body)
    body = staff_client.get("/dashboard/audience/?period=7d").content.decode()
    assert re.search(r'<td class="num">\d+\.\d%</td>', body)
    assert pages.shown(66, "seconds") == "1m 06s" and pages.shown(0.4444, "ratio") == "44.4%"
    assert pages.shown(None, "seconds") == "—" and pages.shown(75, "clock") == "1:15"


def test_the_file_name_has_the_site_the_page_the_table_and_the_range(staff_client, many):
    _, disposition = export(staff_client, "pages", "pages")
    end = datetime.now(UTC).date()
    start = end - timedelta(days=6)
    assert disposition == f'attachment; filename="test-site-pages-pages-{start}-to-{end}.csv"'
