"""`GET /api/events/` and `GET /api/events/<id>/`: filters, pagination, newest first, staff only."""

from __future__ import annotations

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command

from events import ingest
from events.sites import create_site

URL = "/api/events/"


def store(site, *events):
    """Store events through the write path, at once; return their ids in order."""
    return ingest.accept(site=site, payload=list(events), sender=ingest.Sender(source="test"), direct=True).ids


def event(timestamp="2024-03-10T12:00:00Z", **overrides):
    raw = {
        "session_id": "s1",
        "category": "page_interaction",
        "name": "page_view",
        "data": {"host": "spoken-tutorial.org", "path": "/"},
        "timestamp": timestamp,
    }
    raw.update(overrides)
    return raw


def read(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [row["id"] for row in body["results"]]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


# --- Filters ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_field_filter_returns_only_the_matching_events(staff_client, site):
    other_site = create_site(name="Other", allow_custom_events=False)
    (plain,) = store(site, event())
    (session,) = store(site, event(session_id="s2"))
    (click,) = store(site, event(name="cta_click", data={"host": "x.org", "path": "/", "element": "b"}))
    (form,) = store(
        site, event(category="form_interaction", name="submit", data={"host": "x.org", "path": "/contact/", "form": {}})
    )
    (user,) = store(site, event(user="learner7"))
    (deep,) = store(site, event(data={"host": "x.org", "path": "/watch/Python/"}))
    (elsewhere,) = store(other_site, event())

    assert ids(read(staff_client, session_id="s2")) == [session]
    assert ids(read(staff_client, category="form_interaction")) == [form]
    assert ids(read(staff_client, name="cta_click")) == [click]
    assert ids(read(staff_client, user="learner7")) == [user]
    assert ids(read(staff_client, path="/watch/Python/")) == [deep]
    assert ids(read(staff_client, site=other_site.site_id)) == [elsewhere]
    assert read(staff_client, site="nosuchsite")["count"] == 0
    assert read(staff_client)["count"] == 7
    assert plain in ids(read(staff_client, session_id="s1", category="page_interaction", name="page_view", path="/"))


@pytest.mark.django_db
def test_category_and_name_filters_accept_the_spellings_validation_accepts(staff_client, site):
    (view,) = store(site, event())
    store(site, event(name="cta_click", data={"host": "x.org", "path": "/", "element": "b"}))
    assert ids(read(staff_client, category="page interaction", name="pageview")) == [view]
    assert ids(read(staff_client, category="Page Interaction", name="page view")) == [view]


@pytest.mark.django_db
def test_start_time_alone_and_end_time_alone_each_bound_one_side(staff_client, site):
    early, middle, late = store(
        site, event("2024-03-01T00:00:00Z"), event("2024-03-05T00:00:00Z"), event("2024-03-09T00:00:00Z")
    )
    assert ids(read(staff_client, start_time="2024-03-05")) == [late, middle]
    assert ids(read(staff_client, end_time="2024-03-04")) == [early]


@pytest.mark.django_db
def test_a_date_only_end_time_includes_the_whole_day(staff_client, site):
    last_moment, next_day = store(site, event("2024-03-05T23:59:59.999999Z"), event("2024-03-06T00:00:00Z"))
    assert ids(read(staff_client, end_time="2024-03-05")) == [last_moment]
    assert ids(read(staff_client, start_time="2024-03-06", end_time="2024-03-06")) == [next_day]


@pytest.mark.django_db
def test_date_time_bounds_are_inclusive(staff_client, site):
    before, at_start, at_end, after = store(
        site,
        event("2024-03-05T09:59:59Z"),
        event("2024-03-05T10:00:00Z"),
        event("2024-03-05T11:00:00Z"),
        event("2024-03-05T11:00:01Z"),
    )
    body = read(staff_client, start_time="2024-03-05T10:00:00Z", end_time="2024-03-05T11:00:00Z")
    assert ids(body) == [at_end, at_start]
    assert before not in ids(body) and after not in ids(body)


@pytest.mark.django_db
def test_bounds_with_an_offset_mean_that_moment_and_naive_bounds_mean_utc(staff_client, site):
    (at_midnight_utc,) = store(site, event("2024-03-05T00:00:00Z"))
    assert ids(read(staff_client, start_time="2024-03-05T05:30:00+05:30", end_time="2024-03-05T05:30:00+05:30")) == [
        at_midnight_utc
    ]
    assert read(staff_client, start_time="2024-03-05T05:30:01+05:30")["count"] == 0
    assert ids(read(staff_client, start_time="2024-03-05T00:00:00", end_time="2024-03-05 00:00:00")) == [
        at_midnight_utc
    ]
    # An unencoded `+` arrives as a space; it still means +05:30, not a parse error.
    response = staff_client.get(URL + "?end_time=2024-03-05T05:30:00+05:30")
    assert response.status_code == 200 and ids(response.json()) == [at_midnight_utc]


@pytest.mark.django_db
@pytest.mark.parametrize("parameter", ["start_time", "end_time"])
@pytest.mark.parametrize("value", ["yesterday", "2024-02-30", "2024-03-05T25:00:00", "05/03/2024"])
def test_an_unparsable_bound_is_a_400_naming_the_parameter(staff_client, site, parameter, value):
    response = staff_client.get(URL, {parameter: value})
    assert response.status_code == 400
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [parameter]
    assert "date" in body["errors"][0]["rule"]


# --- Pagination ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_results_come_newest_first_ten_to_a_page_with_links_to_the_neighbours(staff_client, site):
    stored = store(site, *[event(f"2024-03-{day:02d}T08:00:00Z") for day in range(1, 24)])
    newest_first = list(reversed(stored))
    first = read(staff_client)
    assert first["count"] == 23 and ids(first) == newest_first[:10]
    assert first["previous"] is None and "page=2" in first["next"]
    last = read(staff_client, page=3)
    assert ids(last) == newest_first[20:] and last["next"] is None and "page=2" in last["previous"]
    sized = read(staff_client, page_size=5, page=2)
    assert ids(sized) == newest_first[5:10] and "page_size=5" in sized["next"]


@pytest.mark.django_db
def test_a_page_holds_at_most_1000_events(staff_client, site):
    for start in (0, 1000):  # two requests: one may hold at most 1000 events
        moments = [f"2024-03-01T00:{second // 60:02d}:{second % 60:02d}Z" for second in range(start, start + 600)]
        store(site, *[event(moment) for moment in moments])
    body = read(staff_client, page_size=5000)
    assert body["count"] == 1200 and len(body["results"]) == 1000


@pytest.mark.django_db
def test_a_page_past_the_end_is_a_json_404(staff_client, site):
    store(site, event())
    response = staff_client.get(URL, {"page": 9})
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.django_db
def test_one_event_is_read_by_its_id_with_its_site_and_data(staff_client, site):
    (event_id,) = store(site, event(user="learner7", url="https://spoken-tutorial.org/watch/"))
    response = staff_client.get(f"{URL}{event_id}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["site"], body["user"]) == (event_id, site.site_id, "learner7")
    assert body["data"] == {"host": "spoken-tutorial.org", "path": "/"}
    assert body["timestamp"] == "2024-03-10T12:00:00Z"
    missing = staff_client.get(f"{URL}00000000-0000-4000-8000-000000000000/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


# --- Who may read ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_and_non_staff_users_cannot_read_events(client, site, django_user_model):
    (event_id,) = store(site, event())
    for url in (URL, f"{URL}{event_id}/"):
        anonymous = client.get(url)
        assert anonymous.status_code in (401, 403) and anonymous.json()["error"] == "not_authenticated"
    django_user_model.objects.create_user("learner", password="learner-pass-123")
    client.login(username="learner", password="learner-pass-123")
    for url in (URL, f"{URL}{event_id}/"):
        refused = client.get(url)
        assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"


@pytest.mark.django_db
def test_staff_read_with_http_basic_auth_and_a_wrong_password_is_refused_by_name(client, site, staff_user):
    store(site, event())
    good = base64.b64encode(b"staff:staff-pass-123").decode()
    assert client.get(URL, HTTP_AUTHORIZATION=f"Basic {good}").json()["count"] == 1
    bad = base64.b64encode(b"staff:wrong").decode()
    refused = client.get(URL, HTTP_AUTHORIZATION=f"Basic {bad}")
    assert refused.status_code in (401, 403) and refused.json()["error"] == "authentication_failed"


@pytest.mark.django_db
def test_staff_read_with_a_token_made_by_drf_create_token(client, site, staff_user):
    store(site, event())
    out = StringIO()
    call_command("drf_create_token", "staff", stdout=out)
    token = re.search(r"\b([0-9a-f]{40})\b", out.getvalue()).group(1)
    assert client.get(URL, HTTP_AUTHORIZATION=f"Token {token}").json()["count"] == 1
    refused = client.get(URL, HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert refused.status_code in (401, 403) and refused.json()["error"] == "authentication_failed"


@pytest.mark.django_db
def test_the_browsable_api_renders_for_staff(staff_client, site):
    store(site, event())
    response = staff_client.get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Event Collection" in response.content and b"spoken-tutorial.org" in response.content


# --- Filters that used to answer 500 (issue 12, finding 4) --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end_time": "9999-12-31"}, "end_time"),
        ({"start_time": "0001-01-01"}, "start_time"),
        ({"start_time": "9999-12-31T23:59:59-05:00"}, "start_time"),
        ({"path": "/\x00"}, "path"),
        ({"user": "\x00"}, "user"),
        ({"site": "\x00"}, "site"),
        ({"session_id": "a\x00"}, "session_id"),
    ],
)
def test_far_dates_and_nul_in_a_filter_are_a_400_naming_the_filter(admin_client, params, field):
    response = admin_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.django_db
def test_an_offset_postgresql_refuses_is_read_as_the_moment_it_names(admin_client, site):
    # 2024-03-10T12:00Z is 2024-03-11T06:21 at +18:21, an offset PostgreSQL would not accept.
    store(site, event(), event(timestamp="2024-03-10T13:00:00Z"))
    body = read(admin_client, start_time="2024-03-11T06:21:00+18:21", end_time="2024-03-11T06:21:00+18:21")
    assert [e["timestamp"] for e in body["results"]] == ["2024-03-10T12:00:00Z"]
