"""The home page points each kind of user to what they can use."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_visitors_are_invited_to_log_in_and_see_no_staff_links(client, site):
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html and 'href="/tutorial-search/"' in html
    assert 'href="/dashboard/"' not in html and "tracker.js" not in html


@pytest.mark.django_db
def test_staff_see_the_dashboards_and_the_default_sites_tracker_tag(client, site, staff_user):
    client.force_login(staff_user)
    html = client.get("/").content.decode()
    assert 'href="/dashboard/"' in html and 'href="/my-learning/"' in html
    assert f"/static/the_eye/tracker.js&quot; data-site=&quot;{site.site_id}&quot;" in html
