"""Every page fits a phone (390 px) and a laptop (1400 px), and axe-core finds nothing serious.

Fitting means: the page never scrolls sideways (the document's scrollWidth is at most its
clientWidth), and nothing sticks out of a card (each card's scrollWidth is at most its
clientWidth; a wide table scrolls inside its own box in the card instead).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from dashboard.pages import PAGES
from dashboard.tests.factories import known_traffic
from progress import tracking
from progress.tests.factories import beat, learner, video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1400)
DASHBOARDS = [f"/dashboard/{'' if name == 'overview' else name + '/'}?period=7d" for name in PAGES] + [
    "/dashboard/?period=today",
    "/dashboard/visitors/?period=7d&visitor=v1",
]
LEARNER_PAGES = [
    "/",
    "/tutorial-search/?course=LibreOffice-Calc&language=English",
    "/watch/LibreOffice-Calc/Introduction-to-spreadsheets/English/",
    "/my-learning/",
]
ADMIN_PAGES = ["/admin/", "/admin/events/event/", "/admin/events/site/", "/admin/progress/progress/"]
ERROR_PAGES = ["/no-such-page/"]

MEASURE = """
const doc = document.documentElement;
const cards = [...document.querySelectorAll('.card, .kpis li, .filter-bar')]
  .filter(card => card.scrollWidth > card.clientWidth + 1)
  .map(card => (card.id || card.className) + ': ' + card.scrollWidth + ' > ' + card.clientWidth);
return {page: [doc.scrollWidth, doc.clientWidth], cards: cards};
"""

AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(function (result) {
  done(result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')));
}).catch(function (error) { done(['axe failed: ' + error]); });
"""


def sign_in(browser, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + "/accounts/login/")
    browser.add_cookie(
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "path": "/"}
    )


@pytest.fixture
def learner_with_progress(db):
    """A learner half-way through a course with a long title (it must wrap, not overflow)."""
    first = video(course="LibreOffice-Calc", tutorial="Introduction-to-spreadsheets", duration=40)
    video(course="LibreOffice-Calc", tutorial="Formulas-and-functions-for-beginners", duration=40, order=2)
    user = learner("asha")
    tracking.record_heartbeat(learner=user, video=first, heartbeat=beat((0, 40), at_second=10))
    return user


def misfits(browser, live_server, urls: list[str]) -> list[str]:
    """Every (width, url) that scrolls sideways or has a card narrower than its content."""
    found = []
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        for url in urls:
            browser.get(live_server.url + url)
            measured = browser.execute_script(MEASURE)
            scroll, client = measured["page"]
            if scroll > client or measured["cards"]:
                found.append(f"{width}px {url}: page {scroll} > {client}; cards {measured['cards']}")
    return found


def test_no_dashboard_page_scrolls_sideways_or_spills_out_of_a_card_on_a_phone_or_a_laptop(
    browser, live_server, site, staff_user
):
    known_traffic(site)
    sign_in(browser, live_server, staff_user)
    found = misfits(browser, live_server, DASHBOARDS + ADMIN_PAGES + ERROR_PAGES)
    assert found == [], "\n".join(found)


def test_no_learner_page_scrolls_sideways_or_spills_out_of_a_card_on_a_phone_or_a_laptop(
    browser, live_server, site, learner_with_progress
):
    sign_in(browser, live_server, learner_with_progress)
    found = misfits(browser, live_server, LEARNER_PAGES + ERROR_PAGES)
    assert found == [], "\n".join(found)


def test_the_header_nav_wraps_on_a_phone_instead_of_running_off_the_screen(browser, live_server, site, staff_user):
    sign_in(browser, live_server, staff_user)
    browser.set_window_size(390, 900)
    browser.get(live_server.url + "/dashboard/?period=7d")
    rights = browser.execute_script(
        "return [...document.querySelectorAll('.topbar a, .topbar button')].map(e => e.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= 390


def accessibility_problems(browser, live_server, urls: list[str], axe_source: str) -> list[str]:
    found = []
    browser.set_window_size(1400, 900)
    for url in urls:
        browser.get(live_server.url + url)
        browser.execute_script(axe_source)
        browser.set_script_timeout(60)
        found += [f"{url}: {problem}" for problem in browser.execute_async_script(AXE)]
    return found


def test_axe_finds_no_serious_or_critical_problem_on_any_dashboard_page(
    browser, live_server, site, staff_user, axe_source
):
    known_traffic(site)
    sign_in(browser, live_server, staff_user)
    found = accessibility_problems(browser, live_server, DASHBOARDS + ERROR_PAGES, axe_source)
    assert found == [], "\n".join(found)


def test_axe_finds_no_serious_or_critical_problem_on_the_learner_pages(
    browser, live_server, site, learner_with_progress, axe_source
):
    sign_in(browser, live_server, learner_with_progress)
    found = accessibility_problems(browser, live_server, LEARNER_PAGES + ["/accounts/login/"], axe_source)
    assert found == [], "\n".join(found)
