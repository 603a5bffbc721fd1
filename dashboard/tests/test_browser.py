"""Every dashboard page draws in real headless Chromium, without console errors or XSS."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from dashboard.pages import PAGES
from dashboard.tests.factories import known_traffic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(browser, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + "/accounts/login/")
    browser.add_cookie(
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "path": "/"}
    )
    browser.get_log("browser")  # start each page check with an empty log


def test_every_page_draws_a_plot_with_no_console_errors_and_no_script_from_tracked_urls(
    browser, live_server, site, staff_user, artifacts
):
    known_traffic(site)
    sign_in(browser, live_server, staff_user)
    for name in PAGES:
        url = f"{live_server.url}/dashboard/{'' if name == 'overview' else name + '/'}?period=7d"
        browser.get(url)
        drawn = browser.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length")
        browser.save_screenshot(str(artifacts / f"dashboard-{name}.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert drawn >= 1, name
        assert errors == [], (name, errors)
        assert browser.execute_script("return window.__xss === undefined"), name


def test_the_realtime_page_refreshes_itself(browser, live_server, site, staff_user):
    known_traffic(site)
    sign_in(browser, live_server, staff_user)
    browser.get(f"{live_server.url}/dashboard/realtime/")
    first = browser.find_element("id", "note").text
    browser.implicitly_wait(0)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda b: b.find_element("id", "note").text != first)
    assert browser.execute_script("return document.querySelectorAll('#table-current tbody tr').length") >= 1
    assert browser.get_log("browser") == [] or all(e["level"] != "SEVERE" for e in browser.get_log("browser"))
