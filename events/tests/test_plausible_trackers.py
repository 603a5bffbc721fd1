"""Plausible's own trackers from npm, unchanged, sending to The Eye from a page of another origin.

`@plausible-analytics/tracker` (the ES module of Plausible's current script) and
`plausible-tracker` (the older library) are installed by `npm ci` from events/tests/js (bin/test
does it; so does the `plausible_packages` fixture when run alone) and served as published by the
host site, with an import map for their package names. Each is configured only through its own
endpoint option (`endpoint` / `apiHost`) and sends through a reverse proxy that names the visitor
(49.36.0.1, Mumbai). The numbers are then read back the way a user reads them: `GET /api/events/`
and `GET /api/stats/`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from events.models import Event, Site
from events.tests import js_clients
from events.tests.hosting import ForwardingProxy, HostSite
from events.tests.test_tracker_browser import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISITOR_IP = "49.36.0.1"
DOMAIN = "learn.example.org"
COURSE = "/courses/python/"
LESSON = "/courses/python/lesson-1/"

# How each package is set up, with only its documented options. `window.__plausible` is the
# current script's own switch for browsers driven by WebDriver, which it otherwise ignores.
SETUP = {
    "@plausible-analytics/tracker": """
        window.__plausible = true;
        import("@plausible-analytics/tracker").then(({ init, track }) => {
          init({ domain: "%(domain)s", endpoint: "%(collector)s/api/event",
                 captureOnLocalhost: true, outboundLinks: true });
          window.app = { track: (name, props) => track(name, { props }) };
        });""",
    "plausible-tracker": """
        import("plausible-tracker").then(({ default: Plausible }) => {
          const plausible = Plausible({ domain: "%(domain)s", apiHost: "%(collector)s", trackLocalhost: true });
          plausible.enableAutoPageviews();
          plausible.enableAutoOutboundTracking();
          window.app = { track: (name, props) => plausible.trackEvent(name, { props }) };
        });""",
}
IMPORTS = {
    "@plausible-analytics/tracker": "/npm/@plausible-analytics/tracker/plausible.js",
    "plausible-tracker": "/npm/plausible-tracker/build/module/index.js",
}


@pytest.fixture(scope="session")
def plausible_packages() -> Path:
    return js_clients.node_modules()


def page(*, package: str, collector: str, exit_url: str) -> str:
    setup = SETUP[package] % {"domain": DOMAIN, "collector": collector}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Python — Learn</title>
<script type="importmap">{json.dumps({"imports": IMPORTS})}</script>
<script type="module">{setup}</script>
</head><body>
<h1>Python 3.4.3</h1>
<p>This page counts its visitors with {package}, sending to The Eye.</p>
<p><a id="exit" href="{exit_url}">Python documentation (another site)</a></p>
</body></html>"""


@pytest.fixture
def host(plausible_packages):
    with HostSite(files={"/npm/": plausible_packages}) as server:
        yield server


@pytest.fixture
def collector(live_server, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    with ForwardingProxy(upstream=live_server.url, client_ip=VISITOR_IP) as proxy:
        yield proxy.url


@pytest.mark.parametrize("package", ["@plausible-analytics/tracker", "plausible-tracker"])
def test_plausibles_tracker_counts_page_views_spa_navigation_custom_events_and_outbound_links(
    package, browser, host, collector, run_worker, client, staff_user
):
    site = Site.objects.create(
        name="Learn", domains=[DOMAIN], allowed_origins=[host.origin()], allow_custom_events=True
    )
    exit_url = host.url("/docs/", host="127.0.0.1")  # another host: an outbound link
    for path in (COURSE, LESSON):
        host.pages[path] = page(package=package, collector=collector, exit_url=exit_url)
    host.pages["/docs/"] = "<!doctype html><title>Docs</title><h1>Another site</h1>"

    browser.get(host.url(COURSE))
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return !!window.app"))
    browser.execute_script(f"history.pushState({{}}, '', '{LESSON}')")
    browser.execute_script("app.track('Enrol', {course: 'python', level: 'beginner'})")
    pageviews = Event.objects.filter(site=site, name="page_view")
    wait_for(
        run_worker,
        lambda: pageviews.count() == 2 and Event.objects.filter(category="custom").exists(),
        what=f"two page views and a custom event from {package}: {browser.get_log('browser')}",
    )
    browser.find_element(By.ID, "exit").click()
    wait_for(run_worker, lambda: Event.objects.filter(name="exit_link").exists(), what="the outbound link")
    WebDriverWait(browser, 10).until(lambda b: b.current_url == exit_url)  # the visitor got there

    client.force_login(staff_user)
    views = client.get(f"/api/events/?site={site.site_id}&name=pageview").json()["results"]
    assert sorted(v["path"] for v in views) == [COURSE, LESSON]
    assert {(v["country"], v["browser"], v["source"]) for v in views} == {("IN", "Chrome", "plausible")}
    [enrol] = client.get(f"/api/events/?site={site.site_id}&category=custom").json()["results"]
    assert enrol["name"] == "Enrol"  # custom names are kept exactly as sent
    assert enrol["data"] == {"course": "python", "level": "beginner", "host": f"localhost:{host.port}", "path": LESSON}
    [exit_link] = client.get(f"/api/events/?site={site.site_id}&name=exit_link").json()["results"]
    assert exit_link["data"]["href"] == exit_url and exit_link["path"] == LESSON

    stats = client.get(f"/api/stats/?site={site.site_id}&period=today&metrics=visitors,visits,pageviews").json()
    assert stats["results"] == [{"visitors": 1, "visits": 1, "pageviews": 2}]
    pages = client.get(f"/api/stats/?site={site.site_id}&period=today&dimension=page&metrics=pageviews").json()
    assert {(r["page"], r["pageviews"]) for r in pages["results"]} == {(COURSE, 1), (LESSON, 1)}
