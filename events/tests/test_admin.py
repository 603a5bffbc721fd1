"""Admin: events are read-only evidence; a site's server key is shown once and can be rotated."""

from __future__ import annotations

import json
import re

import pytest

from events import ingest
from events.models import Event, Site
from events.sites import create_site
from events.tests.test_validation import page_view

KEY = re.compile(r"\b(tes_[A-Za-z0-9_-]{20,})")


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "root-pass-123")
    client.force_login(user)
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def send_with_key(client, key):
    return client.post(
        "/api/events/",
        data=json.dumps(page_view()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


@pytest.fixture
def events(site):
    other = create_site(name="Other site", allow_custom_events=False)
    ingest.accept(
        site=site,
        payload=[page_view(user="learner7", data={"host": "x.org", "path": "/watch/Python/"})],
        sender=ingest.Sender(),
        direct=True,
    )
    ingest.accept(site=other, payload=[page_view(session_id="other-session")], sender=ingest.Sender(), direct=True)
    return Event.objects.order_by("session_id")


@pytest.mark.django_db
def test_the_event_list_shows_events_with_filters_and_searches_session_user_and_path(admin_client, events):
    page = admin_client.get("/admin/events/event/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "learner7" in html and "other-session" in html
    for filter_title in ("By site", "By category", "By name"):
        assert filter_title in html

    def found(**params):
        response = admin_client.get("/admin/events/event/", params)
        return {e.session_id for e in response.context["cl"].result_list}

    assert found(q="learner7") == {events[0].session_id}
    assert found(q="/watch/Python/") == {events[0].session_id}
    assert found(q="other-session") == {"other-session"}
    assert found(site__id__exact=events[1].site_id) == {"other-session"}


@pytest.mark.django_db
def test_events_cannot_be_added_changed_or_deleted_in_admin(admin_client, events):
    event = events[0]
    assert admin_client.get("/admin/events/event/add/").status_code == 403
    detail = admin_client.get(f"/admin/events/event/{event.pk}/change/")
    assert detail.status_code == 200  # readable…
    assert b'name="_save"' not in detail.content  # …but there is nothing to save
    admin_client.post(f"/admin/events/event/{event.pk}/change/", {"user": "someone-else"})
    assert admin_client.get(f"/admin/events/event/{event.pk}/delete/").status_code == 403
    admin_client.post(
        "/admin/events/event/", {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    event.refresh_from_db()
    assert event.user == "learner7"


@pytest.mark.django_db
def test_a_site_made_in_admin_shows_its_server_key_once_and_the_key_works(admin_client, client, queue):
    response = admin_client.post(
        "/admin/events/site/add/",
        {
            "name": "Spoken Tutorial",
            "allowed_origins": '["https://spoken-tutorial.org"]',
            "ip_privacy": "anonymised",
            "allow_custom_events": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    site = Site.objects.get(name="Spoken Tutorial")
    shown = [m for m in messages_of(response) if "server key" in m]
    assert len(shown) == 1 and site.site_id in shown[0]
    key = KEY.search(shown[0]).group(1)
    # Shown once: the change page and the list never show it again.
    for url in (f"/admin/events/site/{site.pk}/change/", "/admin/events/site/"):
        assert key not in admin_client.get(url).content.decode()
    admin_client.logout()
    assert send_with_key(client, key).status_code == 202


@pytest.mark.django_db
def test_rotating_a_key_shows_the_new_one_and_the_old_one_stops_working(admin_client, client, queue):
    site = create_site(name="Keyed")
    old_key = site.rotate_server_key()
    assert send_with_key(client, old_key).status_code == 202
    response = admin_client.post(
        "/admin/events/site/", {"action": "rotate_server_keys", "_selected_action": [site.pk]}, follow=True
    )
    shown = [m for m in messages_of(response) if "New server key" in m]
    assert len(shown) == 1
    new_key = KEY.search(shown[0]).group(1)
    assert new_key != old_key
    admin_client.logout()
    refused = send_with_key(client, old_key)
    assert refused.status_code == 401 and refused.json()["error"] == "bad_server_key"
    assert send_with_key(client, new_key).status_code == 202


@pytest.mark.django_db
def test_staff_without_permissions_cannot_see_events_in_admin(client, staff_user, events):
    client.force_login(staff_user)
    assert client.get("/admin/events/event/").status_code == 403


@pytest.mark.django_db
def test_a_sites_page_shows_the_tracker_tag_its_privacy_settings_need(admin_client, site):
    site.cookieless = site.respect_dnt = site.require_consent = True
    site.save()
    html = admin_client.get(f"/admin/events/site/{site.pk}/change/").content.decode()
    assert (
        f"&lt;script defer src=&quot;http://testserver/static/the_eye/tracker.js&quot; data-site=&quot;{site.site_id}&quot; "
        f"data-cookieless data-respect-dnt data-require-consent&gt;&lt;/script&gt;"
    ) in html


def site_form(**changes):
    data = {"name": "Spoken Tutorial", "allowed_origins": "", "ip_privacy": "anonymised", "allow_custom_events": "on"}
    data.update(changes)
    return data


@pytest.mark.django_db
def test_allowed_origins_are_edited_one_per_line_and_stored_as_a_list(admin_client, site):
    response = admin_client.post(
        f"/admin/events/site/{site.pk}/change/",
        site_form(
            allowed_origins="https://spoken-tutorial.org/\r\n\r\n  http://localhost:8000\r\nhttps://spoken-tutorial.org"
        ),
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.allowed_origins == ["https://spoken-tutorial.org", "http://localhost:8000"]
    page = admin_client.get(f"/admin/events/site/{site.pk}/change/").content.decode()
    assert "https://spoken-tutorial.org\nhttp://localhost:8000</textarea>" in page


@pytest.mark.django_db
def test_a_line_that_is_not_an_origin_is_refused_by_name_and_nothing_is_saved(admin_client, site):
    before = list(site.allowed_origins)
    response = admin_client.post(
        f"/admin/events/site/{site.pk}/change/",
        site_form(allowed_origins="https://ok.example.org\nspoken-tutorial.org\nhttps://x.org/watch/"),
    )
    assert response.status_code == 200
    error = " ".join(response.context["adminform"].form.errors["allowed_origins"])
    assert "spoken-tutorial.org" in error and "https://x.org/watch" in error and "ok.example.org" not in error
    site.refresh_from_db()
    assert site.allowed_origins == before


@pytest.mark.django_db
def test_the_site_form_reads_ip_privacy_and_respect_dnt(admin_client, site):
    page = admin_client.get(f"/admin/events/site/{site.pk}/change/").content.decode()
    assert ">IP privacy:</label>" in page and ">Respect DNT</label>" in page
    assert "Ip privacy" not in page and "Respect dnt" not in admin_client.get("/admin/events/site/").content.decode()


@pytest.mark.django_db
def test_the_event_list_shows_the_newest_event_first(admin_client, site):
    for n, day in enumerate(("2024-01-01", "2024-03-01", "2024-02-01")):
        ingest.accept(
            site=site,
            payload=[page_view(session_id=f"s{n}", timestamp=f"{day} 10:00:00.000000")],
            sender=ingest.Sender(),
            direct=True,
        )
    page = admin_client.get("/admin/events/event/").content.decode()
    assert page.index(">s1<") < page.index(">s2<") < page.index(">s0<")


@pytest.mark.django_db
def test_the_add_site_form_starts_cookieless_and_the_admin_can_choose_cookies_and_consent(admin_client):
    form = admin_client.get("/admin/events/site/add/").context["adminform"].form
    assert form["cookieless"].initial is True and form["require_consent"].initial is False
    admin_client.post(
        "/admin/events/site/add/",
        # An unticked box is absent from a post: this admin unticks "cookieless".
        {"name": "With cookies", "allowed_origins": "[]", "ip_privacy": "anonymised", "require_consent": "on"},
    )
    site = Site.objects.get(name="With cookies")
    assert site.cookieless is False and site.require_consent is True
