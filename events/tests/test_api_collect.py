"""`POST /api/events/`: validation at the door, one job per request, JSON errors only."""

from __future__ import annotations

import json

import pytest

from events.models import Event
from events.sites import create_site
from events.tests.test_validation import page_view

URL = "/api/events/"


def post(client, body, content_type="application/json", **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **headers)


@pytest.mark.django_db
def test_a_valid_batch_is_accepted_as_one_job_and_stored_by_the_worker(client, site, queue, run_worker):
    response = post(
        client, [page_view(), page_view(name="cta_click", data={"host": "x.org", "path": "/a", "element": "b"})]
    )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2 and len(body["ids"]) == 2
    assert queue.count == 1  # the whole request is ONE job
    assert Event.objects.count() == 0  # nothing is stored on the request path
    assert run_worker() == 1
    stored = Event.objects.order_by("name")
    assert [str(e.id) for e in stored] == sorted(
        body["ids"], key=lambda i: [e for e in stored if str(e.id) == i][0].name
    )
    assert {e.site_id for e in stored} == {site.pk}
    assert stored.get(name="cta_click").data["element"] == "b"


@pytest.mark.django_db
def test_the_seed_readme_curl_works_unchanged_with_the_default_site(client, site, queue, run_worker):
    body = (
        '{"session_id": "123", "category": "page_interaction", "name": "page_view", "data": '
        '{"host": "www.consumeraffairs.com", "path": "/"}, "timestamp": "2022-01-01 00:00:00.000000"}'
    )
    response = post(client, body)
    assert response.status_code == 202
    run_worker()
    event = Event.objects.get()
    assert (event.session_id, event.host, event.path, event.site) == ("123", "www.consumeraffairs.com", "/", site)
    assert event.timestamp.isoformat() == "2022-01-01T00:00:00+00:00"


@pytest.mark.django_db
def test_one_bad_event_rejects_the_whole_batch_and_names_it(client, site, queue):
    response = post(client, [page_view(), page_view(data={"host": "x.org", "path": "nope"}), page_view()])
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "field": "data.path", "rule": "must start with /"}]
    assert queue.count == 0 and Event.objects.count() == 0


@pytest.mark.django_db
def test_a_resent_batch_is_stored_once(client, site, queue, run_worker):
    batch = [page_view(id="6f1d2c4e-2a8b-4c55-9d0e-1f2a3b4c5d6e"), page_view(id="7a1d2c4e-2a8b-4c55-9d0e-1f2a3b4c5d6e")]
    assert post(client, batch).status_code == 202
    assert post(client, batch).status_code == 202
    run_worker()
    assert Event.objects.count() == 2
    job = queue.finished_job_registry.get_job_ids()
    results = sorted(queue.fetch_job(j).return_value()["inserted"] for j in job)
    assert results == [0, 2]


@pytest.mark.django_db
def test_the_site_comes_from_the_header_or_the_site_id_field(client, site, queue, run_worker):
    other = create_site(name="Other", allow_custom_events=False)
    assert post(client, page_view(), HTTP_X_SITE_ID=other.site_id).status_code == 202
    assert post(client, page_view(site_id=other.site_id)).status_code == 202
    run_worker()
    assert Event.objects.filter(site=other).count() == 2


@pytest.mark.django_db
def test_an_unknown_site_or_no_site_at_all_is_a_400(client, db, queue):
    response = post(client, page_view(), HTTP_X_SITE_ID="nosuchsite")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "site_id", "rule": "must be the public id of a site"}]
    response = post(client, page_view())
    assert response.status_code == 400 and response.json()["error"] == "no_site"


@pytest.mark.django_db
def test_events_naming_two_sites_in_one_request_are_refused(client, site, queue):
    other = create_site(name="Other")
    response = post(client, [page_view(site_id=site.site_id), page_view(site_id=other.site_id)])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "field": "site_id", "rule": "must name the same site as the request"}
    ]


@pytest.mark.django_db
def test_a_wrong_server_key_is_a_401(client, site, queue):
    response = post(client, page_view(), HTTP_AUTHORIZATION="Bearer tes_wrong")
    assert response.status_code == 401 and response.json()["error"] == "bad_server_key"


@pytest.mark.django_db
def test_malformed_json_is_a_400_with_a_json_body(client, site, queue):
    response = post(client, '{"session_id": ')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


@pytest.mark.django_db
def test_a_body_that_is_a_bare_value_is_a_400_not_a_500(client, site, queue):
    for body in ("42", '"text"', "null", "[]", "[1, 2]"):
        response = post(client, body)
        assert response.status_code == 400, body
        assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_wrong_content_type_is_a_415(client, site, queue):
    response = client.post(URL, data="session_id=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "Content-Type"


@pytest.mark.django_db
def test_text_plain_beacons_are_read_as_json(client, site, queue):
    assert post(client, json.dumps(page_view()), content_type="text/plain;charset=UTF-8").status_code == 202


@pytest.mark.django_db
def test_a_body_over_the_limit_is_a_413(client, site, queue, settings):
    settings.EVENTS_MAX_BODY_BYTES = 2000
    response = post(client, [page_view()] * 20)
    assert response.status_code == 413
    assert response.json()["limit"] == 2000
    assert queue.count == 0


@pytest.mark.django_db
def test_too_many_events_in_one_request_is_a_400(client, site, queue, settings):
    settings.EVENTS_MAX_BATCH = 5
    response = post(client, [page_view()] * 6)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": None, "field": "", "rule": "a request may hold at most 5 events"}]


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_404(client):
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.django_db
def test_only_a_server_key_may_state_the_visitors_ip_and_user_agent(client, site, queue, run_worker):
    event = page_view(ip="49.36.0.1", user_agent="Mozilla/5.0 Test")
    refused = post(client, event)
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"ip", "user_agent"}
    key = site.rotate_server_key()
    assert post(client, event, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 202
    run_worker()
    stored = Event.objects.get()
    assert (stored.ip, stored.user_agent) == ("49.36.0.0", "Mozilla/5.0 Test")


@pytest.mark.django_db
def test_a_browser_saying_do_not_track_is_not_recorded_when_the_site_respects_it(client, site, queue):
    origin = {"HTTP_ORIGIN": "http://localhost:8123"}
    assert post(client, page_view(), HTTP_DNT="1", **origin).json()["accepted"] == 1  # the site doesn't ask
    site.respect_dnt = True
    site.save()
    for header in ({"HTTP_DNT": "1"}, {"HTTP_SEC_GPC": "1"}):
        response = post(client, page_view(), **header, **origin)
        assert response.status_code == 202
        assert response.json() == {"accepted": 0, "ids": [], "ignored": "do_not_track"}
    assert queue.count == 1  # only the request made before the site asked


@pytest.mark.django_db
def test_a_shared_position_is_kept_only_for_sites_that_ask_for_positions(client, site, queue, run_worker):
    origin = {"HTTP_ORIGIN": "http://localhost:8123"}
    position = {"latitude": 19.13, "longitude": 72.91, "accuracy": 30}
    post(client, page_view(geo=position), **origin)
    run_worker()
    assert Event.objects.get().latitude is None  # 127.0.0.1 has no location either
    site.collect_geolocation = True
    site.save()
    post(client, page_view(geo=position), **origin)
    run_worker()
    assert Event.objects.filter(latitude=19.13, longitude=72.91).count() == 1


# --- Values the stores cannot keep, and input that used to answer 500 (issue 12, findings 2 and 3) ---

EVENT_JSON = (
    '{"session_id": "s1", "category": "page_interaction", "name": "page_view", '
    '"timestamp": "2024-01-01T00:00:00Z", "data": {"host": "x.org", "path": "/", "extra": %s}}'
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('"a\\u0000b"', "data.extra"),
        ('"\\ud800"', "data.extra"),
        ("NaN", "data.extra"),
        ("Infinity", "data.extra"),
        ("-Infinity", "data.extra"),
        ("1e400", "data.extra"),
        ('{"k\\u0000": 1}', "data.extra.k\\u0000"),
    ],
)
def test_a_value_postgresql_cannot_keep_is_a_400_naming_the_field_and_nothing_is_queued(
    client, site, queue, extra, field
):
    good = json.dumps(page_view())
    response = post(client, f"[{good}, {EVENT_JSON % extra}]")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)]
    assert queue.count == 0 and Event.objects.count() == 0


@pytest.mark.django_db
def test_a_nul_in_the_site_id_field_or_header_is_a_400_not_a_500(client, site, queue):
    field = post(client, [page_view(site_id="abc\x00")])
    header = post(client, [page_view()], HTTP_X_SITE_ID="abc\x00")
    assert (field.status_code, header.status_code) == (400, 400)
    assert field.json()["errors"][0]["field"] == "site_id"
    assert header.json()["errors"][0]["field"] == "X-Site-Id"
    assert queue.count == 0


@pytest.mark.django_db
@pytest.mark.parametrize("levels", [40, 900, 10_000])
def test_data_nested_hundreds_or_thousands_deep_is_a_400_not_a_500(client, site, queue, levels):
    nested = "[" * levels + "]" * levels
    response = post(client, EVENT_JSON % nested)
    assert response.status_code == 400
    assert "32 levels" in response.json()["errors"][0]["rule"]
    assert queue.count == 0


@pytest.mark.django_db
@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_timestamp_past_either_end_of_the_calendar_is_a_400_not_a_500(client, site, queue, moment):
    response = post(client, [page_view(timestamp=moment)])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "timestamp", "rule": "must lie between the year 2000 and now"}
    ]


@pytest.mark.django_db
def test_a_nul_in_a_header_is_a_400_before_the_site_or_session_is_looked_up(client, site, queue):
    response = post(client, [page_view()], HTTP_USER_AGENT="Mozilla\x00")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "User-Agent", "rule": "must not contain the NUL character (\\u0000)"}
    ]
    assert queue.count == 0
