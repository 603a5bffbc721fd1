"""What the worker adds to every stored event: place, browser, visitor, session, name, origin."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from events import geo, ingest, referrers, visitors
from events.models import (
    DailySalt,
    DroppedEvents,
    Event,
    EventNameRule,
    IpPrivacy,
    Session,
    Site,
    Visitor,
)
from events.sites import create_site
from events.validation import validate_batch

CHROME_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
)
CURL = "curl/8.5.0"
MUMBAI, DELHI, BRITAIN = "49.36.0.1", "103.27.8.1", "81.2.69.142"
HOST = "spoken-tutorial.org"
START = (datetime.now(UTC) - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def view(path: str = "/", *, minutes: float = 0, session: str = "s1", **fields) -> dict:
    event = {
        "id": str(uuid.uuid4()),
        "session_id": session,
        "category": "page_interaction",
        "name": "page_view",
        "data": {"host": HOST, "path": path},
        "timestamp": at(minutes),
        "url": f"https://{HOST}{path}",
    }
    event.update(fields)
    return event


def click(path: str = "/", *, minutes: float = 0, session: str = "s1", **fields) -> dict:
    return view(
        path,
        minutes=minutes,
        session=session,
        name="cta_click",
        data={"host": HOST, "path": path, "element": "download"},
        **fields,
    )


def send(site: Site, events: list[dict], *, ua: str = CHROME_DESKTOP, ip: str | None = MUMBAI, trusted: bool = True):
    sender = ingest.Sender(ip=ip, user_agent=ua, source="test", trusted=trusted)
    return ingest.accept(site=site, payload=events, sender=sender, direct=True).stored


def stored(event: dict) -> Event:
    return Event.objects.get(id=event["id"])


def dropped(site: Site, reason: str) -> int:
    return sum(DroppedEvents.objects.filter(site=site, reason=reason).values_list("count", flat=True))


# --- Location --------------------------------------------------------------------------------


def test_the_shipped_database_knows_the_documented_addresses():
    mumbai = geo.locate(ip=MUMBAI)
    assert (mumbai.country, mumbai.country_name, mumbai.region, mumbai.city) == ("IN", "India", "Maharashtra", "Mumbai")
    assert (geo.locate(ip=DELHI).country, geo.locate(ip=DELHI).city) == ("IN", "Delhi")
    assert geo.locate(ip=BRITAIN).country == "GB"
    for nowhere in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "not an ip", "", None):
        assert geo.locate(ip=nowhere) == geo.NOWHERE


@pytest.mark.django_db
def test_a_chrome_visit_from_mumbai_is_stored_with_its_place_browser_and_device(site):
    event = view()
    send(site, [event], ua=CHROME_DESKTOP, ip=MUMBAI)
    row = stored(event)
    assert (row.country, row.country_name, row.region, row.city) == ("IN", "India", "Maharashtra", "Mumbai")
    assert round(row.latitude, 1) == 19.0 and round(row.longitude, 1) == 72.8
    assert (row.browser, row.browser_version, row.os, row.os_version) == ("Chrome", "131.0", "Windows", "10")
    assert row.device_type == "desktop"


@pytest.mark.django_db
def test_a_private_address_is_stored_without_a_location_and_without_error(site):
    event = view()
    result = send(site, [event], ip="127.0.0.1")
    row = stored(event)
    assert result.inserted == 1
    assert (row.country, row.city, row.latitude) == ("", "", None)


@pytest.mark.django_db
def test_the_location_is_looked_up_before_the_site_reduces_or_drops_the_ip(site):
    for privacy, kept_ip in [(IpPrivacy.NONE, None), (IpPrivacy.ANONYMISED, "103.27.8.0"), (IpPrivacy.RAW, DELHI)]:
        site.ip_privacy = privacy
        site.save()
        event = view()
        send(site, [event], ip=DELHI)
        row = stored(event)
        assert (row.ip, row.city, row.country) == (kept_ip, "Delhi", "IN")


@pytest.mark.django_db
def test_a_position_the_visitor_shared_wins_over_the_ip_guess(site):
    site.collect_geolocation = True  # positions are kept only for sites that ask for them
    site.save()
    event = view(geo={"latitude": 19.1334, "longitude": 72.9133, "accuracy": 20})
    send(site, [event], ip=DELHI, trusted=False)
    row = stored(event)
    assert (row.latitude, row.longitude) == (19.1334, 72.9133)
    assert row.city == "Delhi"  # the IP's city stays: a position is not a place name


@pytest.mark.django_db
def test_geoip_path_names_the_database_to_use(settings, tmp_path):
    shipped = geo.database_path()
    copy = tmp_path / "City.mmdb"
    copy.write_bytes(open(shipped, "rb").read())
    settings.GEOIP_PATH = str(copy)
    assert geo.database_path() == str(copy) and geo.locate(ip=DELHI).city == "Delhi"
    settings.GEOIP_PATH = str(tmp_path / "missing.mmdb")
    with pytest.raises(FileNotFoundError, match="GEOIP_PATH"):
        geo.reader()


def test_geoip_info_prints_the_database_its_build_date_and_a_lookup(capsys):
    call_command("geoip_info", MUMBAI)
    out = capsys.readouterr().out
    assert "GeoLite2-City.mmdb" in out and "built:      2018-07-03" in out
    assert "Mumbai, Maharashtra, India [IN]" in out and "MaxMind" in out


# --- User agents and bots --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ua", "browser", "os", "device_type"),
    [
        (CHROME_DESKTOP, "Chrome", "Windows", "desktop"),
        (ANDROID_PHONE, "Chrome Mobile", "Android", "mobile"),
        (IPAD, "Mobile Safari", "iOS", "tablet"),
    ],
)
def test_browsers_and_devices_of_people_are_recognised(site, ua, browser, os, device_type):
    event = view()
    send(site, [event], ua=ua)
    row = stored(event)
    assert (row.browser, row.os, row.device_type) == (browser, os, device_type)
    assert row.user_agent == ua


@pytest.mark.django_db
def test_bots_and_headless_browsers_are_not_stored_but_counted_per_site_and_day(site):
    results = [send(site, [view(), view()], ua=ua) for ua in (GOOGLEBOT, HEADLESS, CURL, "python-requests/2.32.3")]
    assert Event.objects.count() == 0 and Session.objects.count() == 0
    assert [r.dropped for r in results] == [{"bot": 2}] * 4
    counter = DroppedEvents.objects.get(site=site, reason="bot")
    assert (counter.day, counter.count) == (START.date(), 8)


@pytest.mark.django_db
def test_the_middleware_may_state_each_visitors_user_agent_and_ip(site):
    person, crawler = view(user_agent=ANDROID_PHONE, ip=BRITAIN), view(user_agent=GOOGLEBOT, ip=MUMBAI)
    send(site, [person, crawler], ua="python-httpx/0.28 (the middleware's own sender)", ip="10.0.0.5")
    row = stored(person)
    assert (row.device_type, row.country) == ("mobile", "GB")
    assert not Event.objects.filter(id=crawler["id"]).exists() and dropped(site, "bot") == 1


@pytest.mark.django_db
def test_resent_events_are_counted_as_duplicates(site):
    events = [view(), view(minutes=1)]
    send(site, events)
    again = send(site, events + [view(minutes=2)])
    assert (again.inserted, again.duplicates) == (1, 2)
    assert dropped(site, "duplicate") == 2


@pytest.mark.django_db
def test_a_batch_refused_at_the_door_is_counted_as_invalid(client, site):
    bad = [view(), {"session_id": "x"}, view()]
    response = client.post("/api/events/", data=json.dumps(bad), content_type="application/json")
    assert response.status_code == 400
    assert Event.objects.count() == 0
    assert DroppedEvents.objects.get(site=site, reason="invalid").count == 3


@pytest.mark.django_db
def test_staff_read_the_dropped_counters_in_admin_and_cannot_change_them(admin_client, site):
    send(site, [view()], ua=GOOGLEBOT)
    page = admin_client.get("/admin/events/droppedevents/")
    assert page.status_code == 200 and "Bot or headless browser" in page.content.decode()
    assert admin_client.get("/admin/events/droppedevents/add/").status_code == 403


# --- Sessions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_keeps_entry_exit_pageviews_duration_and_bounce_across_out_of_order_batches(site):
    late = [view("/watch/BASH/Loops/English/", minutes=12), click("/watch/BASH/Loops/English/", minutes=13)]
    early = [view("/", minutes=0), view("/tutorial-search/", minutes=5)]
    send(site, late)
    send(site, early)
    send(site, early + late)  # a full resend changes nothing
    session = Session.objects.get(site=site)
    assert session.session_id == "s1"
    assert (session.entry_path, session.exit_path) == ("/", "/watch/BASH/Loops/English/")
    assert (session.pageviews, session.events, session.duration_seconds) == (3, 4, 13 * 60)
    assert session.is_bounce is False
    assert session.started_at == START and Event.objects.filter(session_id="s1").count() == 4


@pytest.mark.django_db
def test_a_single_page_visit_is_a_bounce_that_lasts_until_its_engagement_report(site):
    # The tracker reports engaged time when the page is hidden: the visit lasted until then.
    engaged = view(minutes=95 / 60, name="engagement", data={"host": HOST, "path": "/", "engaged_seconds": 90})
    send(site, [view(minutes=0), engaged])
    session = Session.objects.get(site=site)
    assert (session.pageviews, session.is_bounce, session.duration_seconds) == (1, True, 95)
    assert session.engaged_seconds == 90


@pytest.mark.django_db
def test_only_get_requests_from_the_middleware_count_as_pageviews(site):
    def request(method, minutes):
        return view(
            minutes=minutes,
            category="server",
            name="request",
            data={"host": HOST, "path": "/contact/", "method": method},
        )

    send(site, [request("GET", 0), request("POST", 1), request("GET", 2)])
    session = Session.objects.get(site=site)
    assert (session.pageviews, session.events, session.is_bounce) == (2, 3, False)


@pytest.mark.django_db
def test_a_session_id_reused_after_thirty_idle_minutes_starts_a_new_session(site, settings):
    assert settings.SESSION_INACTIVITY_MINUTES == 30
    first, second = view("/", minutes=0), view("/news/", minutes=45)
    send(site, [first, second])
    sessions = list(Session.objects.order_by("started_at"))
    assert len(sessions) == 2 and [s.pageviews for s in sessions] == [1, 1]
    assert sessions[0].visit_id == "s1" and sessions[1].visit_id.startswith("s1~")
    assert [s.session_id for s in sessions] == ["s1", "s1"]
    # The event keeps the id its client sent; the visit it fell in is its own field.
    assert (stored(second).session_id, stored(second).visit_id) == ("s1", sessions[1].visit_id)
    # An event that arrives late and fills the gap joins them into one visit.
    send(site, [view("/about-us/", minutes=25)])
    session = Session.objects.get(site=site)
    assert (session.visit_id, session.pageviews, session.exit_path) == ("s1", 3, "/news/")
    assert session.duration_seconds == 45 * 60
    assert set(Event.objects.values_list("session_id", "visit_id")) == {("s1", "s1")}


# --- Visitors --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_visitor_is_new_on_the_first_visit_and_returning_within_six_months(site):
    first = view(session="a", visitor_id="v1", minutes=0)
    later = view(session="b", visitor_id="v1", minutes=24 * 60)
    other = view(session="c", visitor_id="v2", minutes=24 * 60)
    send(site, [first])
    send(site, [later, other])
    assert [stored(e).is_new_visitor for e in (first, later, other)] == [True, False, True]
    assert Session.objects.get(session_id="b").is_new_visitor is False
    visitor = Visitor.objects.get(site=site, visitor_id="v1")
    assert (visitor.first_seen, visitor.last_seen) == (START, START + timedelta(days=1))


@pytest.mark.django_db
def test_a_visitor_back_after_more_than_six_months_counts_as_new_again(site):
    Visitor.objects.create(
        site=site, visitor_id="v1", first_seen=START - timedelta(days=400), last_seen=START - timedelta(days=200)
    )
    Visitor.objects.create(
        site=site, visitor_id="v2", first_seen=START - timedelta(days=400), last_seen=START - timedelta(days=100)
    )
    events = [view(session="a", visitor_id="v1"), view(session="b", visitor_id="v2")]
    send(site, events)
    assert [stored(e).is_new_visitor for e in events] == [True, False]


@pytest.mark.django_db
def test_every_event_of_a_first_visit_is_marked_new_even_in_a_later_batch(site):
    send(site, [view(visitor_id="v1", minutes=0)])
    second = view("/news/", visitor_id="v1", minutes=3)
    send(site, [second])
    assert stored(second).is_new_visitor is True


@pytest.mark.django_db
def test_a_first_visit_that_arrives_after_a_later_one_makes_the_later_one_returning(site):
    later = [view("/news/", session="b", visitor_id="v1", minutes=0)]
    earlier = [view("/", session="a", visitor_id="v1", minutes=-3 * 24 * 60)]
    send(site, later)
    assert stored(later[0]).is_new_visitor is True  # as far as anyone could tell then
    send(site, earlier)
    assert [stored(e).is_new_visitor for e in (earlier[0], later[0])] == [True, False]
    assert dict(Session.objects.values_list("session_id", "is_new_visitor")) == {"a": True, "b": False}


def _store_on(site: Site, events: list[dict], *, received: datetime, ip: str, ua: str = CHROME_DESKTOP) -> None:
    batch = {
        "site": site.pk,
        "received_at": received.isoformat(),
        "sender": {"ip": ip, "user_agent": ua, "source": "test", "trusted": False},
        "events": validate_batch(events, allow_custom=False),
    }
    ingest.store_batch(batch=batch)


@pytest.mark.django_db
def test_cookieless_sites_identify_a_visitor_by_a_hash_that_changes_every_day(site):
    visitors._salts.clear()
    site.cookieless = True
    site.save()
    monday, tuesday = datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, 10, tzinfo=UTC)
    a, b = view(session="a", visitor_id="cookie-1"), view(session="b", visitor_id="cookie-2")
    c, d = view(session="c"), view(session="d")
    _store_on(site, [a], received=monday, ip=MUMBAI)
    _store_on(site, [b], received=monday + timedelta(hours=5), ip=MUMBAI)
    _store_on(site, [c], received=monday, ip=DELHI)
    _store_on(site, [d], received=tuesday, ip=MUMBAI)
    ids = {name: stored(e).visitor_id for name, e in zip("abcd", (a, b, c, d), strict=True)}
    assert ids["a"] == ids["b"]  # same browser, same day: one visitor, whatever cookie it sent
    assert ids["a"] not in ("cookie-1", "cookie-2") and len(ids["a"]) == 20
    assert ids["c"] != ids["a"]  # another address
    assert ids["d"] != ids["a"]  # the next day
    assert list(DailySalt.objects.values_list("day", flat=True)) == [date(2026, 3, 3)]  # Monday's is gone


@pytest.mark.django_db
def test_a_site_using_cookies_keeps_the_trackers_visitor_id_and_hashes_only_when_it_is_missing(site):
    with_cookie, without = view(visitor_id="cookie-1"), view(session="s2")
    send(site, [with_cookie, without])
    assert stored(with_cookie).visitor_id == "cookie-1"
    assert len(stored(without).visitor_id) == 20


# --- Event names -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_watch_page_is_named_from_the_seeded_rule_and_its_parts_become_data(site):
    watch, other = view("/watch/BASH/Introduction+to+BASH+Shell+Scripting/English/"), view("/no-rule/here/")
    send(site, [watch, other, click("/watch/BASH/Loops/English/")])
    row = stored(watch)
    assert row.event_name == "event.video.watch"
    assert {k: row.data[k] for k in ("foss", "tutorial", "language")} == {
        "foss": "BASH",
        "tutorial": "Introduction to BASH Shell Scripting",
        "language": "English",
    }
    assert stored(other).event_name == "pageview"  # unmatched paths are still stored
    assert Event.objects.get(name="cta_click").event_name == "page_interaction.cta_click"


@pytest.mark.django_db
def test_rules_edited_in_admin_apply_to_the_next_batch_in_order_and_per_site(site):
    send(site, [view("/news/")])
    elsewhere = create_site(name="Other site")
    EventNameRule.objects.create(pattern=r"^/news/", event_name="event.news", position=50)
    rule = EventNameRule.objects.create(
        pattern=r"^/(?P<section>news)/$", event_name="event.news.index", position=20, site=site
    )
    first = view("/news/")
    send(site, [first])
    assert (stored(first).event_name, stored(first).data["section"]) == ("event.news.index", "news")
    rule.enabled = False
    rule.save()
    second, third = view("/news/"), view("/news/")
    send(site, [second])
    send(elsewhere, [third])
    assert stored(second).event_name == stored(third).event_name == "event.news"


# --- Referrers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referrer", "host", "channel"),
    [
        ("", "", "direct"),
        ("https://www.google.co.in/search?q=bash", "google.co.in", "search"),
        ("https://duckduckgo.com/", "duckduckgo.com", "search"),
        ("https://t.co/abc", "t.co", "social"),
        ("https://m.facebook.com/", "m.facebook.com", "social"),
        ("https://www.youtube.com/watch?v=x", "youtube.com", "social"),
        ("https://fossee.in/workshops", "fossee.in", "referral"),
        ("https://www.spoken-tutorial.org/tutorial-search/", "spoken-tutorial.org", "internal"),
    ],
)
def test_referrers_are_sorted_into_channels(referrer, host, channel):
    origin = referrers.classify(referrer=referrer, page_host=HOST)
    assert (origin.referrer_host, origin.channel) == (host, channel)


@pytest.mark.django_db
def test_utm_tags_and_the_entry_referrer_describe_the_session(site):
    entry = view(
        "/",
        url=f"https://{HOST}/?utm_source=newsletter&utm_medium=email&utm_campaign=workshop-2026",
        referrer="https://mail.google.com/",
    )
    send(site, [entry, view("/news/", minutes=1, referrer=f"https://{HOST}/")])
    row = stored(entry)
    assert (row.utm_source, row.utm_medium, row.utm_campaign, row.utm_term) == (
        "newsletter",
        "email",
        "workshop-2026",
        "",
    )
    session = Session.objects.get(site=site)
    assert (session.channel, session.referrer_host, session.utm_campaign) == (
        "search",
        "mail.google.com",
        "workshop-2026",
    )
    assert Event.objects.get(path="/news/").channel == "internal"


# --- End to end ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_enriches_what_the_api_accepted(client, site, queue, run_worker):
    events = [
        view("/watch/Python/Loops/Hindi/", visitor_id="v9", screen="1920x1080", language="hi-IN"),
        view("/", minutes=2, visitor_id="v9"),
    ]
    # Sent by browsers (they always send Origin on a POST), so the request's IP and UA are the visitor's.
    response = client.post(
        "/api/events/",
        data=json.dumps(events),
        content_type="application/json",
        HTTP_USER_AGENT=ANDROID_PHONE,
        REMOTE_ADDR=MUMBAI,
        HTTP_ORIGIN="http://localhost:8123",
    )
    assert response.status_code == 202
    bot = client.post(
        "/api/events/",
        data=json.dumps([view(session="b")]),
        content_type="application/json",
        HTTP_USER_AGENT=GOOGLEBOT,
        REMOTE_ADDR=MUMBAI,
        HTTP_ORIGIN="http://localhost:8123",
    )
    assert bot.status_code == 202  # a bot is not told it was dropped
    assert run_worker() == 2
    row = stored(events[0])
    assert (row.city, row.device_type, row.event_name, row.data["foss"]) == (
        "Mumbai",
        "mobile",
        "event.video.watch",
        "Python",
    )
    assert (row.screen, row.language, row.ip, row.is_new_visitor) == ("1920x1080", "hi-IN", "49.36.0.0", True)
    session = Session.objects.get(site=site)
    assert (session.pageviews, session.entry_path, session.exit_path, session.country) == (
        2,
        "/watch/Python/Loops/Hindi/",
        "/",
        "IN",
    )
    assert dropped(site, "bot") == 1


@pytest.mark.django_db
def test_a_server_posting_for_its_visitors_is_neither_a_bot_nor_located_at_its_own_address(
    client, site, queue, run_worker
):
    # No Origin header: a program on a server (curl here) sends events about its visitors.
    response = client.post(
        "/api/events/",
        data=json.dumps([view("/")]),
        content_type="application/json",
        HTTP_USER_AGENT="curl/8.5.0",
        REMOTE_ADDR=MUMBAI,
    )
    assert response.status_code == 202
    run_worker()
    row = Event.objects.get(site=site)
    assert (row.source, row.ip, row.city, row.user_agent, row.device_type) == ("api", None, "", "", "")
    assert dropped(site, "bot") == 0


# --- Concurrency (PostgreSQL: real parallel transactions) ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_workers_storing_one_session_at_the_same_time_count_every_event_once(site):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite admits one writer at a time; the race exists only on PostgreSQL")
    batches = [[view(f"/p{w}-{i}/", minutes=w * 5 + i, visitor_id="v1") for i in range(5)] for w in range(4)]
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def worker(events: list[dict]) -> None:
        from django.db import connections

        try:
            start.wait()
            send(site, events)
        except BaseException as error:  # reported below: a thread's exception would be lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    session = Session.objects.get(site=site)
    assert (session.pageviews, session.events, session.entry_path, session.exit_path) == (20, 20, "/p0-0/", "/p3-4/")
    assert Visitor.objects.get(site=site, visitor_id="v1").last_seen == START + timedelta(minutes=19)
    assert set(Event.objects.values_list("is_new_visitor", flat=True)) == {True}


@pytest.mark.django_db
def test_admin_refuses_a_rule_whose_pattern_is_not_a_regular_expression(admin_client):
    page = admin_client.post(
        "/admin/events/eventnamerule/add/",
        {
            "position": 5,
            "pattern": "^/watch/(?P<foss>[^/]+",
            "event_name": "event.broken",
            "enabled": "on",
        },
    )
    assert page.status_code == 200 and "is not a valid regular expression" in page.content.decode()
    assert not EventNameRule.objects.filter(event_name="event.broken").exists()
    added = admin_client.post(
        "/admin/events/eventnamerule/add/",
        {
            "position": 5,
            "pattern": r"^/news/(?P<slug>[\w-]+)/$",
            "event_name": "event.news.item",
            "enabled": "on",
        },
    )
    assert added.status_code == 302 and EventNameRule.objects.filter(event_name="event.news.item").exists()
