"""The JS tracker in real headless Chromium, embedded in a page of ANOTHER origin than the collector.

Layout, as in production: the host page comes from `HostSite` (http://localhost:H); its tag loads
/static/the_eye/tracker.js (the minified file pages really load) from a reverse proxy
(http://127.0.0.1:P) in front of the live server, which adds `X-Forwarded-For: 49.36.0.1` — an
address the shipped GeoIP database places in Mumbai. After the browser has sent, a real RQ worker
stores the events and the test reads the database.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from events.models import Event, Site
from events.sites import create_site
from events.tests.hosting import ForwardingProxy, HostSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISITOR_IP = "49.36.0.1"  # Mumbai, IN in the shipped GeoLite2 City database
COURSE = "/courses/python/"
LESSON = "/courses/python/lesson-1/"


def page(*, collector: str, site: Site, exit_url: str, options: str = "", tag: str = "") -> str:
    tag = (
        tag
        or f'<script defer src="{collector}/static/the_eye/tracker.js" data-site="{site.site_id}" {options}></script>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Python 3.4.3 — Spoken Tutorial</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2733; }}
  header {{ background: #0b4f6c; color: #fff; padding: 14px 32px; font-size: 20px; }}
  main {{ padding: 24px 32px; max-width: 760px; }}
  .lessons li {{ margin: 6px 0; }}
  button {{ font-size: 16px; padding: 8px 18px; background: #f28c28; color: #fff; border: 0; border-radius: 4px; }}
  code {{ background: #eef2f5; padding: 2px 4px; }}
</style>
{tag}
</head><body>
<header>Spoken Tutorial · IIT Bombay</header>
<main>
  <h1>Python 3.4.3</h1>
  <p>Learn Python with free video tutorials. This page embeds The Eye's tracker from
     <code>{collector}</code>.</p>
  <ol class="lessons"><li>Getting started with IPython</li><li>Using the plot command</li>
     <li>Embellishing a plot</li></ol>
  <p><button id="enrol" data-the-eye-event="enrol" data-the-eye-course="python"
     data-the-eye-course-level="beginner">Enrol in this course</button></p>
  <p><a id="exit" href="{exit_url}">Python documentation (another site)</a></p>
</main>
</body></html>"""


@pytest.fixture
def host():
    with HostSite() as server:
        yield server


@pytest.fixture
def proxy(live_server, settings):
    # One proxy in front of the collector: its X-Forwarded-For names the visitor.
    settings.TRUSTED_PROXY_COUNT = 1
    with ForwardingProxy(upstream=live_server.url, client_ip=VISITOR_IP) as proxy:
        yield proxy


@pytest.fixture
def collector(proxy):
    return proxy.url


@pytest.fixture
def tracked_site(host):
    # A site that counts visitors by the tracker's cookie (new sites are cookieless by default).
    return create_site(
        name="Spoken Tutorial", allowed_origins=[host.origin()], allow_custom_events=True, cookieless=False
    )


def serve(host: HostSite, *, collector: str, site: Site, options: str = "", tag: str = "") -> None:
    exit_url = host.url("/docs/", host="127.0.0.1")  # another host name: an exit link
    for path in (COURSE, LESSON):
        host.pages[path] = page(collector=collector, site=site, exit_url=exit_url, options=options, tag=tag)
    host.pages["/docs/"] = "<!doctype html><title>Docs</title><h1>Another site</h1>"


def open_page(browser, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return !!(window.theEye && theEye.track)"))


def wait_for(run_worker: Callable[[], int], condition: Callable[[], bool], *, what: str, seconds: float = 20) -> None:
    """Run the worker until `condition` holds; the browser sends on its own schedule."""
    deadline = time.monotonic() + seconds
    while True:
        run_worker()
        if condition():
            return
        if time.monotonic() > deadline:
            stored = list(Event.objects.values_list("category", "name", "path"))
            raise AssertionError(f"gave up waiting for {what}; stored: {stored}")
        time.sleep(0.2)


def outbox(browser) -> list[dict]:
    return json.loads(browser.execute_script("return localStorage.getItem('_theEye_out') || '[]'"))


def test_a_page_on_another_origin_records_views_navigations_clicks_custom_events_and_engaged_time(
    browser, host, collector, tracked_site, run_worker, artifacts
):
    serve(host, collector=collector, site=tracked_site)
    open_page(browser, host.url(COURSE))
    browser.execute_script(f"history.pushState({{}}, '', '{LESSON}')")
    browser.find_element(By.ID, "enrol").click()
    browser.execute_script("theEye.track('video_play', {tutorial: 'Getting started with IPython', second: 12})")
    wait_for(run_worker, lambda: Event.objects.filter(category="custom").count() == 2, what="two custom events")
    browser.save_screenshot(str(artifacts / "tracker-host-page.png"))

    browser.find_element(By.ID, "exit").click()  # leaves the page: an exit link, then the page is hidden
    wait_for(
        run_worker,
        lambda: (
            Event.objects.filter(name="exit_link").exists()
            and Event.objects.filter(name="engagement", path=LESSON).exists()
        ),
        what="the exit link and the engaged time of the page left",
    )

    events = Event.objects.filter(site=tracked_site)
    views = events.filter(name="page_view").order_by("timestamp")
    assert [v.path for v in views] == [COURSE, LESSON]
    first, spa = views
    assert first.url == host.url(COURSE) and first.host == f"localhost:{host.port}"
    assert first.title == "Python 3.4.3 — Spoken Tutorial"
    assert spa.referrer == host.url(COURSE)  # an SPA navigation comes from the previous view

    enrol = events.get(category="custom", name="enrol")
    assert enrol.data == {
        "course": "python",
        "courseLevel": "beginner",
        "host": f"localhost:{host.port}",
        "path": LESSON,
    }
    video = events.get(category="custom", name="video_play")
    assert video.data["tutorial"] == "Getting started with IPython" and video.data["second"] == 12

    exit_link = events.get(name="exit_link")
    assert exit_link.data["href"] == host.url("/docs/", host="127.0.0.1") and exit_link.path == LESSON
    engaged = events.filter(name="engagement", path=LESSON)
    assert sum(e.data["engaged_seconds"] for e in engaged) > 0

    # One visit: one session and one visitor (the tracker's cookie) across every event.
    assert len({e.session_id for e in events}) == 1
    assert len({e.visitor_id for e in events}) == 1 and events.first().visitor_id
    assert not events.exclude(category__in=["page_interaction", "custom"]).exists()


def test_events_made_offline_are_delivered_once_when_the_browser_is_back_online(
    browser, host, collector, tracked_site, run_worker
):
    serve(host, collector=collector, site=tracked_site)
    open_page(browser, host.url(COURSE))
    wait_for(run_worker, lambda: Event.objects.filter(name="page_view").exists(), what="the first pageview")

    browser.execute_cdp_cmd("Network.enable", {})
    conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, **conditions})
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return navigator.onLine === false"))
    browser.execute_script("theEye.track('quiz_started', {quiz: 1}); theEye.track('quiz_answered', {quiz: 1})")
    browser.execute_script("theEye.track('x'.repeat(80))")  # a name over 64 characters: the server refuses it
    browser.execute_script(f"history.pushState({{}}, '', '{LESSON}')")
    waiting = outbox(browser)
    offline_names = {"quiz_started", "quiz_answered", "page_view", "x" * 80}
    assert offline_names <= {e["name"] for e in waiting}  # kept in localStorage, not lost

    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, **conditions})
    # The batch's 400 names the bad event: the tracker drops it alone and resends the others.
    ids = {e["id"] for e in waiting if e["name"] != "x" * 80}
    wait_for(run_worker, lambda: Event.objects.filter(id__in=ids).count() == len(ids), what="the queued events")
    WebDriverWait(browser, 10).until(lambda b: outbox(b) == [])  # removed only after an answer

    # A new page load flushes the outbox again: nothing is left to resend, nothing doubles.
    open_page(browser, host.url(COURSE))
    wait_for(run_worker, lambda: Event.objects.filter(name="page_view").count() == 3, what="the reload's pageview")
    assert Event.objects.filter(category="custom").count() == 2
    assert Event.objects.filter(name="page_view", path=LESSON).count() == 1


def test_a_page_on_an_origin_the_site_does_not_list_is_refused(browser, host, collector, tracked_site, run_worker):
    serve(host, collector=collector, site=tracked_site)
    unlisted = host.url(COURSE, host="127.0.0.1")  # same server, but an origin the site does not list
    open_page(browser, unlisted)
    error = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: 'POST', body: JSON.stringify(arguments[1])})
            .then(r => done('answered ' + r.status), e => done(String(e)));""",
        f"{collector}/api/events/",
        [
            {
                "site_id": tracked_site.site_id,
                "session_id": "s",
                "category": "page_interaction",
                "name": "page_view",
                "timestamp": "2024-01-01T00:00:00Z",
                "data": {"host": "127.0.0.1", "path": "/"},
            }
        ],
    )
    assert error == "TypeError: Failed to fetch"
    console = " ".join(entry["message"] for entry in browser.get_log("browser"))
    assert "has been blocked by CORS policy" in console
    assert "page_view" in {e["name"] for e in outbox(browser)}  # the tracker keeps it for later
    run_worker()
    assert Event.objects.count() == 0


# Kept apart from the tests above: it checks the worker's enrichment (events/enrichment.py) as
# much as the tracker, so a failure here points there first.
def test_the_pageview_gets_location_browser_and_device_and_the_visitors_own_position(
    browser, host, collector, tracked_site, run_worker
):
    tracked_site.collect_geolocation = True
    tracked_site.save()
    serve(host, collector=collector, site=tracked_site, options="data-geolocation")
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": host.origin(), "permissions": ["geolocation"]})
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 19.1334, "longitude": 72.9133, "accuracy": 30}
    )
    open_page(browser, host.url(COURSE))
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return !!sessionStorage.getItem('_theEye_geo')"))
    browser.execute_script("theEye.track('located')")
    wait_for(run_worker, lambda: Event.objects.filter(name="located").exists(), what="the located event")

    view = Event.objects.get(name="page_view")
    assert (view.country, view.city) == ("IN", "Mumbai")
    assert view.browser == "Chrome" and view.device_type == "desktop"
    located = Event.objects.get(name="located")
    assert (located.latitude, located.longitude) == (19.1334, 72.9133)


def test_a_cookieless_tag_sets_no_cookie_and_a_respect_dnt_tag_sends_nothing_under_gpc(
    browser, host, collector, tracked_site, queue, run_worker
):
    exit_url = host.url("/docs/", host="127.0.0.1")
    host.pages["/cookieless/"] = page(
        collector=collector, site=tracked_site, exit_url=exit_url, options="data-cookieless"
    )
    # Events of the DNT page would go to a closed port and so stay in the outbox, where the test
    # would see them: an empty outbox proves the tracker made none.
    closed = socket.create_server(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/events/"
    closed.close()
    host.pages["/dnt/"] = page(
        collector=collector, site=tracked_site, exit_url=exit_url, options=f'data-respect-dnt data-api="{nowhere}"'
    )

    open_page(browser, host.url("/cookieless/"))
    wait_for(lambda: 0, lambda: queue.count == 1, what="the cookieless pageview's job")
    sent = queue.jobs[0].args[0]["events"]  # the batch as the collector accepted it
    assert [e["name"] for e in sent] == ["page_view"]
    assert "visitor_id" not in sent[0] and sent[0]["session_id"]
    assert "_theEye_v" not in browser.execute_script("return document.cookie")
    # The session lives in this tab only.
    assert browser.execute_script("return !!sessionStorage.getItem('_theEye_s') && !localStorage.getItem('_theEye_s')")
    run_worker()

    browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"},
    )
    open_page(browser, host.url("/dnt/"))
    browser.execute_script("theEye.track('ignored'); history.pushState({}, '', '/dnt/next/')")
    browser.find_element(By.ID, "enrol").click()
    assert outbox(browser) == []
    run_worker()
    assert not Event.objects.filter(path__startswith="/dnt/").exists()
    assert Event.objects.filter(path="/cookieless/", name="page_view").count() == 1


OURS = """return {
  cookie: document.cookie,
  stored: Object.keys(localStorage).concat(Object.keys(sessionStorage)).filter(k => k.startsWith('_theEye')),
  ids: theEye.ids(),
}"""


def test_a_consent_tag_records_and_stores_nothing_before_consent_and_forgets_the_visitor_when_it_is_withdrawn(
    browser, host, proxy, collector, tracked_site, run_worker
):
    tracked_site.require_consent = True
    tracked_site.save()
    tag = tracked_site.tracker_tag(collector=collector)
    assert "data-require-consent" in tag
    serve(host, collector=collector, site=tracked_site, tag=tag)
    open_page(browser, host.url(COURSE))

    # Before consent: a custom event, an SPA navigation, a tracked click and a page hide make nothing.
    browser.execute_script(f"theEye.track('before_consent'); history.pushState({{}}, '', '{LESSON}')")
    browser.find_element(By.ID, "enrol").click()
    browser.execute_script("dispatchEvent(new Event('pagehide')); dispatchEvent(new Event('online'))")
    assert browser.execute_script(OURS) == {"cookie": "", "stored": [], "ids": {}}
    assert not [r for r in proxy.requests if r.startswith("POST")]

    # Consent: the page being shown now is recorded, with the visitor cookie set from then on.
    browser.execute_script("theEye.consent(true)")
    wait_for(run_worker, lambda: Event.objects.filter(name="page_view").exists(), what="the page view after consent")
    given = browser.execute_script(OURS)
    visitor = given["ids"]["visitor_id"]
    assert given["cookie"] == f"_theEye_v={visitor}"
    assert "_theEye_s" in given["stored"]
    view = Event.objects.get()
    assert (view.name, view.path, view.visitor_id) == ("page_view", LESSON, visitor)

    # Withdrawn: the cookie and every stored item go, and nothing is sent until consent is given again.
    browser.execute_script("theEye.consent(false); theEye.track('after_withdrawal')")
    browser.find_element(By.ID, "enrol").click()
    assert browser.execute_script(OURS) == {"cookie": "", "stored": [], "ids": {}}
    browser.execute_script("theEye.consent(true)")
    wait_for(run_worker, lambda: Event.objects.count() == 2, what="the page view after consent is given again")
    again = Event.objects.exclude(pk=view.pk).get()
    assert (again.name, again.path) == ("page_view", LESSON)
    assert again.visitor_id and again.visitor_id != visitor  # the old visitor id was forgotten
    assert len([r for r in proxy.requests if r.startswith("POST")]) == 2
