"""The truth suite: scripted traffic through every collector, every reader agreeing with a count by hand.

One small world is sent the way real clients send it — a host site's Django middleware (over HTTP
to a live collector), a backend posting The Eye's format without its users' IP or browser, a
browser posting with an `Origin`, and the Logs Store format — and stored by a real worker. Then
the rollups, the raw-event source, `/api/stats/`, the CSV exports, the sessions behind the
Visitors page and `GET /api/events/` must all give the numbers worked out by hand below.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict
from django.test import Client

from conftest import DESKTOP_UA
from dashboard import queries
from dashboard.scope import parse_scope
from events.models import Event, Session
from events.tests.test_middleware import deliver, host  # noqa: F401  (fixtures)
from rollups import definitions

ORIGIN = "https://learn.example.org"
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
FIREFOX_UA = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
MUMBAI, DELHI, LONDON = "49.36.0.1", "103.27.8.1", "81.2.69.142"

# Worked out by hand from the script in `world` (see the comments there).
EXPECTED_TOTALS = {
    "visits": 9,
    "pageviews": 11,
    "bounces": 4,
    "visitors": 8,
    "events": 17,
    "visit_pageviews": 11,
}
EXPECTED_PAGES = {
    "/": 2,
    "/courses/": 2,
    "/news/": 4,
    "/watch/BASH/Intro/English/": 2,
    "/archive/2024/01/": 1,
}


def event(session: str, name: str, at: datetime, path: str = "", *, category: str = "", **extra) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "session_id": session,
        "category": category or ("page_interaction" if name == "page_view" else "custom"),
        "name": name,
        "timestamp": at.isoformat(),
        "data": {"host": "learn.example.org", "path": path} if name == "page_view" else {"plan": "pro"},
        **extra,
    }
    if path:
        body["url"] = f"{ORIGIN}{path}"
    return body


@pytest.fixture
def world(host, settings, run_worker, staff_user):  # noqa: F811
    """Send the scripted traffic through every door and store it; returns the site."""
    site = host
    site.allowed_origins = [ORIGIN]
    site.allow_custom_events = True
    site.save()
    # The host and The Eye share one process here: the host's middleware must not record the
    # test's own calls to the collector and the dashboards.
    settings.THE_EYE_SKIP_PATHS = ["/api/", "/dashboard/"]
    now = datetime.now(UTC).replace(microsecond=0)

    # 1. A host site's middleware: visitor M (Mumbai, desktop) — 3 GET pages and a form POST:
    #    one visit, 3 page views, not a bounce (4 events). Visitor M2 (London) — one GET: a bounce.
    m = Client(HTTP_USER_AGENT=DESKTOP_UA, REMOTE_ADDR=MUMBAI)
    for path in ("/", "/courses/", "/watch/BASH/Intro/English/"):
        assert m.get(path).status_code == 200
    assert m.post("/accounts/signup/", {"username": "asha"}).status_code == 201
    m2 = Client(HTTP_USER_AGENT=FIREFOX_UA, REMOTE_ADDR=LONDON)
    assert m2.get("/archive/2024/01/").status_code == 200
    deliver(run_worker)

    api = Client(HTTP_X_SITE_ID=site.site_id)  # a backend: no Origin, no visitors' IP or browser
    # 2. A backend posting for four users over three days: four sessions, four visitors; two
    #    bounce, two sent "Signup-Pro" too (6 events).
    backend = [
        event("srv-1", "page_view", now - timedelta(hours=50), "/news/"),
        event("srv-2", "page_view", now - timedelta(hours=26), "/news/"),
        event("srv-3", "page_view", now - timedelta(hours=25), "/news/"),
        event("srv-3", "Signup-Pro", now - timedelta(hours=25) + timedelta(seconds=30)),
        event("srv-4", "page_view", now - timedelta(hours=2), "/news/"),
        event("srv-4", "Signup-Pro", now - timedelta(hours=2) + timedelta(seconds=45)),
    ]
    response = api.post("/api/events/", backend, content_type="application/json")
    assert response.status_code == 202, response.content
    # 3. A browser (Delhi, Android) with visitor id "vb" reusing session "sb" after 45 idle
    #    minutes: two visits (2 pages + Signup-Pro; then 1 page, a bounce), 4 events, 1 visitor.
    start = now - timedelta(hours=5)
    browser = [
        event("sb", "page_view", start, "/courses/", visitor_id="vb"),
        event("sb", "page_view", start + timedelta(minutes=1), "/watch/BASH/Intro/English/", visitor_id="vb"),
        event("sb", "Signup-Pro", start + timedelta(minutes=2), visitor_id="vb"),
        event("sb", "page_view", start + timedelta(minutes=47), "/", visitor_id="vb"),
    ]
    sent_from_browser = Client(
        HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=ANDROID_UA, REMOTE_ADDR=DELHI, HTTP_X_SITE_ID=site.site_id
    )
    response = sent_from_browser.post("/api/events/", browser, content_type="application/json")
    assert response.status_code == 202, response.content
    # 4. The Logs Store format: one log of a CLICK and a NAVIGATE — one visit of two
    #    interactions (no page view, not a bounce), its own visitor (2 events).
    logs = [
        {
            "userId": "u1",
            "sessionId": "ls-1",
            "actions": [
                {
                    "time": (now - timedelta(hours=3)).isoformat(),
                    "type": "CLICK",
                    "properties": {"locationX": 1, "locationY": 2},
                },
                {
                    "time": (now - timedelta(hours=3) + timedelta(seconds=20)).isoformat(),
                    "type": "NAVIGATE",
                    "properties": {"pageFrom": "home", "pageTo": "courses"},
                },
            ],
        }
    ]
    response = api.post("/api/logs/", logs, content_type="application/json")
    assert response.status_code in (200, 201, 202), response.content
    run_worker()
    assert Event.objects.count() == EXPECTED_TOTALS["events"]
    return site


def scope(**params: str):
    query = QueryDict(mutable=True)
    query.update({"period": "7d", **params})
    return parse_scope(params=query)


def staff(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def stats(client: Client, site, **params: str) -> dict:
    response = client.get("/api/stats/", {"site": site.site_id, "period": "7d", **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_every_reader_agrees_with_the_count_by_hand(world, staff_user):
    for source in ("rollups", "raw"):
        totals = queries.totals(scope=scope().with_source(source))
        assert {k: getattr(totals, k) for k in EXPECTED_TOTALS} == EXPECTED_TOTALS, source
        pages = queries.counts_by(scope=scope().with_source(source), dimension="page", limit=50)
        assert {r.value: r.count for r in pages} == EXPECTED_PAGES, source

    client = staff(staff_user)
    body = stats(client, world, metrics="visitors,visits,pageviews,events,bounce_rate")
    assert body["results"] == [
        {"visitors": 8, "visits": 9, "pageviews": 11, "events": 17, "bounce_rate": round(4 / 9, 4)}
    ]
    by_page = stats(client, world, dimension="page", metrics="pageviews")["results"]
    assert {r["page"]: r["pageviews"] for r in by_page} == EXPECTED_PAGES

    export = client.get("/dashboard/pages/", {"site": world.site_id, "period": "7d", "export": "csv", "table": "pages"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert {row[0]: int(row[1]) for row in rows[1:]} == EXPECTED_PAGES

    # The Visitors page lists sessions: their counts are the same visits, views and bounces.
    sessions = Session.objects.filter(site=world)
    assert sessions.count() == EXPECTED_TOTALS["visits"]
    assert sum(s.pageviews for s in sessions) == EXPECTED_TOTALS["pageviews"]
    assert sum(s.is_bounce for s in sessions) == EXPECTED_TOTALS["bounces"]


def test_a_host_that_sends_only_through_the_middleware_sees_its_page_views_everywhere(world):
    middleware = Event.objects.filter(site=world, category="server", name="request")
    visit = Session.objects.get(site=world, visit_id=middleware.filter(path="/courses/").get().visit_id)
    assert (visit.pageviews, visit.is_bounce) == (3, False)
    assert set(middleware.values_list("role", flat=True)) == {"page_view", "interaction"}
    overview = queries.totals(scope=scope(browser="Chrome"))
    assert (overview.visits, overview.pageviews, overview.bounces) == (1, 3, 0)


def test_the_session_id_a_client_sent_finds_every_event_it_sent(world, staff_user):
    client = staff(staff_user)
    found = client.get("/api/events/", {"session_id": "sb", "page_size": 100}).json()
    events = found["results"] if isinstance(found, dict) else found
    assert len(events) == 4 and {e["session_id"] for e in events} == {"sb"}
    visits = {e["visit_id"] for e in events}
    assert len(visits) == 2
    one_visit = client.get("/api/events/", {"visit_id": sorted(visits)[-1]}).json()
    assert len(one_visit["results"] if isinstance(one_visit, dict) else one_visit) in (1, 3)


def test_a_backend_posting_for_many_users_counts_one_visitor_per_session(world):
    backend = Event.objects.filter(site=world, session_id__startswith="srv-")
    assert backend.values("visitor_id").distinct().count() == 4
    assert queries.totals(scope=scope(path="/news/")).visitors == 4


def test_custom_event_names_are_kept_exactly_as_sent(world, staff_user):
    assert Event.objects.filter(category="custom", name="Signup-Pro").count() == 3
    kinds = stats(staff(staff_user), world, dimension="event", metrics="events")["results"]
    assert {r["event"]: r["events"] for r in kinds}["custom/Signup-Pro"] == 3
    found = staff(staff_user).get("/api/events/", {"name": "Signup-Pro"}).json()
    assert len(found["results"] if isinstance(found, dict) else found) == 3


def test_a_page_filter_selects_the_visits_with_that_page_and_that_pages_events(world):
    filtered = scope(path="/courses/")
    # Visits including /courses/: M's and the browser's first visit; its page views: two.
    totals = queries.totals(scope=filtered)
    assert (totals.visits, totals.pageviews, totals.visitors) == (2, 2, 2)
    entries = {r.value: r.visits for r in queries.visits_by(scope=filtered, dimension="entry")}
    assert entries == {"/": 1, "/courses/": 1}
    unfiltered = {r.value: r.visits for r in queries.visits_by(scope=scope(), dimension="entry")}
    assert entries["/courses/"] == unfiltered["/courses/"]
    for source in ("rollups", "raw"):
        page = {r.value: r for r in queries.counts_by(scope=scope().with_source(source), dimension="page")}
        assert page["/courses/"].count == totals.pageviews


def test_a_visit_filter_selects_whole_visits_by_where_they_began(world):
    india = queries.totals(scope=scope(country="IN"))
    by_country = {r.value: r.visits for r in queries.visits_by(scope=scope(), dimension="country")}
    assert india.visits == by_country["IN"] == 3
    assert india.pageviews == 3 + 3


def test_every_registered_dimension_answers_on_the_stats_api(world, staff_user):
    client = staff(staff_user)
    for name in (*definitions.VISIT_DIMENSIONS, *definitions.EVENT_DIMENSIONS):
        if name == "total":
            continue
        rows = stats(client, world, dimension=name)["results"]
        assert isinstance(rows, list), name
    countries = stats(client, world, dimension="country", metrics="visits")["results"]
    assert {"country": "IN", "visits": 3} in countries and {"country": "GB", "visits": 1} in countries


def test_every_dashboard_page_opens_and_shows_the_same_numbers(world, staff_user):
    from dashboard import pages

    client = staff(staff_user)
    for name in pages.PAGES:
        response = client.get(f"/dashboard/{name}/", {"site": world.site_id, "period": "7d"})
        assert response.status_code == 200, name
    cards = {card.label: card.value.replace(",", "") for card in pages.overview(scope()).cards}
    assert (cards["Unique visitors"], cards["Visits"], cards["Page views"]) == ("8", "9", "11")
    export = client.get(
        "/dashboard/overview/", {"site": world.site_id, "period": "7d", "export": "csv", "table": "trend"}
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert sum(int(r["Visits"]) for r in rows) == 9 and sum(int(r["Page views"]) for r in rows) == 11


@pytest.mark.browser
def test_the_tracker_in_chromium_and_learner_heartbeats_add_up_with_every_other_collector(
    world, browser, live_server, settings, run_worker, staff_user
):
    """Two more doors into the same world: a page carrying the real tracker (Chromium, another
    origin, behind a proxy naming a Mumbai visitor) with a navigation to a second page, and a
    learner's two heartbeats on a tutorial. Expected: +2 visits, +2 page views, +2 visitors."""
    from events.sites import make_default
    from events.tests.hosting import ForwardingProxy, HostSite
    from events.tests.test_tracker_browser import open_page, wait_for
    from progress.tests.factories import learner, video

    make_default(site=world)  # the learner pages and their heartbeats count for the default site
    settings.TRUSTED_PROXY_COUNT = 1
    with HostSite() as pages_host, ForwardingProxy(upstream=live_server.url, client_ip=MUMBAI) as proxy:
        world.allowed_origins = [ORIGIN, pages_host.origin()]
        world.save()
        tag = f'<script defer src="{proxy.url}/static/the_eye/tracker.js" data-site="{world.site_id}"></script>'
        pages_host.pages["/one/"] = f'<!doctype html><title>One</title>{tag}<a id="next" href="/two/">next</a>'
        pages_host.pages["/two/"] = f"<!doctype html><title>Two</title>{tag}<p>two</p>"
        open_page(browser, pages_host.url("/one/"))
        browser.find_element("id", "next").click()
        wait_for(run_worker, lambda: Event.objects.filter(path="/two/").exists(), what="the second page view")

    tutorial = video(course="BASH", tutorial="Intro", duration=40)
    student = Client()
    student.force_login(learner("meera"))
    for position in (10.0, 20.0):
        body = {
            "id": str(uuid.uuid4()),
            "tutorial": tutorial.tutorial_id,
            "language": "English",
            "position": position,
            "segments": [[position - 10.0, position]],
            "duration": 40.0,
            "reason": "pause",
        }
        assert student.post("/api/progress/heartbeat/", body, content_type="application/json").status_code == 200
    run_worker()

    tracked = Event.objects.filter(site=world, source="tracker").exclude(session_id="sb")  # "sb": leg 3
    assert sorted(tracked.filter(role="page_view").values_list("path", flat=True)) == ["/one/", "/two/"]
    assert tracked.values("visit_id").distinct().count() == 1 and {e.country for e in tracked} == {"IN"}
    heartbeats = Event.objects.filter(site=world, source="progress")
    assert heartbeats.count() == 2 and heartbeats.values("visit_id").distinct().count() == 1

    expected = {
        **EXPECTED_TOTALS,
        "visits": 9 + 2,
        "pageviews": 11 + 2,
        "visit_pageviews": 11 + 2,
        "visitors": 8 + 2,
        "events": 17 + tracked.count() + 2,  # the tracker also reports engaged time on leaving
    }
    for source in ("rollups", "raw"):
        totals = queries.totals(scope=scope().with_source(source))
        assert {k: getattr(totals, k) for k in expected} == expected, source
    assert stats(staff(staff_user), world, metrics="visits,pageviews")["results"] == [{"visits": 11, "pageviews": 13}]
