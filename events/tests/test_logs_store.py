"""The Logs Store format at `/api/logs/`: its rules and codes, its bugs fixed, stored as events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from events.models import Event
from events.sites import create_site

URL = "/api/logs/"

SEED_BODY = [
    {
        "userId": "ABC123XYZ",
        "sessionId": "XYZ456ABC",
        "actions": [
            {"time": "2018-10-18T21:37:28-06:00", "type": "CLICK", "properties": {"locationX": 52, "locationY": 11}},
            {"time": "2018-10-18T21:37:30-06:00", "type": "VIEW", "properties": {"viewedId": "FDJKLHSLD"}},
            {
                "time": "2018-10-18T21:37:30-06:00",
                "type": "NAVIGATE",
                "properties": {"pageFrom": "communities", "pageTo": "inventory"},
            },
        ],
    },
    {
        "userId": "asd",
        "sessionId": "asdfg",
        "actions": [
            {"time": "2018-10-18T21:37:28-06:00", "type": "CLICK", "properties": {"locationX": 52, "locationY": 22}},
            {"time": "2018-10-20T21:37:28-06:00", "type": "NAVIGATE", "properties": {"pageFrom": "X", "pageTo": "Y"}},
        ],
    },
]


def seed_body():
    return copy.deepcopy(SEED_BODY)


def post(client, body, content_type="application/json", **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **headers)


def code_of(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False
    return body["code"]


@pytest.mark.django_db
def test_the_seed_readme_body_is_accepted_and_the_worker_stores_each_action_as_an_event(
    client, site, queue, run_worker
):
    response = post(client, seed_body())
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert queue.count == 1 and Event.objects.count() == 0
    assert run_worker() == 1
    events = Event.objects.order_by("timestamp", "name")
    assert events.count() == 5
    assert {e.category for e in events} == {"logs_store"}
    assert {e.source for e in events} == {"logs_store"}
    first = events.filter(user="ABC123XYZ", name="click").get()
    assert first.session_id == "XYZ456ABC" and first.site == site
    assert first.data == {"locationX": 52, "locationY": 11}
    assert first.timestamp == datetime(2018, 10, 19, 3, 37, 28, tzinfo=UTC)  # -06:00 is six hours behind UTC


@pytest.mark.django_db
def test_location_x_of_zero_is_a_position_not_a_missing_value(client, site, queue, run_worker):
    body = [
        {
            "userId": "u",
            "sessionId": "s",
            "actions": [
                {"time": "2024-01-01T00:00:00Z", "type": "CLICK", "properties": {"locationX": 0, "locationY": 0}}
            ],
        }
    ]
    assert post(client, body).status_code == 200
    run_worker()
    assert Event.objects.get().data == {"locationX": 0, "locationY": 0}


@pytest.mark.django_db
def test_times_with_any_offset_are_real_moments(client, site, queue, run_worker):
    body = [
        {
            "userId": "u",
            "sessionId": "s",
            "actions": [
                {"time": "2024-01-01T10:00:00+05:30", "type": "VIEW", "properties": {"viewedId": "a"}},
                {"time": "2024-01-01T04:30:00Z", "type": "VIEW", "properties": {"viewedId": "b"}},
                {"time": "2023-12-31T23:30:00-05:00", "type": "VIEW", "properties": {"viewedId": "c"}},
            ],
        }
    ]
    assert post(client, body).status_code == 200
    run_worker()
    assert {e.timestamp for e in Event.objects.all()} == {datetime(2024, 1, 1, 4, 30, tzinfo=UTC)}


def one_log(**action_changes):
    action = {"time": "2018-10-18T21:37:28-06:00", "type": "CLICK", "properties": {"locationX": 1, "locationY": 2}}
    for key, value in action_changes.items():
        if value is ...:
            action.pop(key)
        else:
            action[key] = value
    return [{"userId": "u1", "sessionId": "s1", "actions": [action]}]


BAD_BODIES = [
    ("an empty array", [], "NO_LOGS_PROVIDED"),
    ("an object instead of an array", {"userId": "u"}, "NO_LOGS_PROVIDED"),
    ("a string instead of an array", '"logs"', "NO_LOGS_PROVIDED"),
    ("null", None, "NO_LOGS_PROVIDED"),
    ("a log without userId", [{"sessionId": "s", "actions": one_log()[0]["actions"]}], "MISSING_USERID"),
    ("a blank userId", [{"userId": " ", "sessionId": "s", "actions": one_log()[0]["actions"]}], "MISSING_USERID"),
    ("a log without sessionId", [{"userId": "u", "actions": one_log()[0]["actions"]}], "MISSING_SESSIONID"),
    ("a log without actions", [{"userId": "u", "sessionId": "s"}], "MISSING_ACTIONS"),
    ("a log with no actions", [{"userId": "u", "sessionId": "s", "actions": []}], "MISSING_ACTIONS"),
    ("a log whose actions are not a list", [{"userId": "u", "sessionId": "s", "actions": {}}], "MISSING_ACTIONS"),
    ("an empty action", [{"userId": "u", "sessionId": "s", "actions": [{}]}], "EMPTY_ACTION"),
    ("a null action", [{"userId": "u", "sessionId": "s", "actions": [None]}], "EMPTY_ACTION"),
    ("an action without type", one_log(type=...), "MISSING_TYPE_VALUE"),
    ("an action without properties", one_log(properties=...), "MISSING_PROPERTIES_VALUE"),
    ("an action without time", one_log(time=...), "MISSING_TIME_VALUE"),
    ("an action with an empty time", one_log(time=""), "MISSING_TIME_VALUE"),
    ("a time that is not a date", one_log(time="yesterday"), "INVALID_TIME_FORMAT"),
    ("a time without an offset", one_log(time="2018-10-18T21:37:28"), "INVALID_TIME_FORMAT"),
    ("a date without a time", one_log(time="2018-10-18"), "INVALID_TIME_FORMAT"),
    ("a time as a number", one_log(time=1539920248), "INVALID_TIME_FORMAT"),
    ("an impossible date", one_log(time="2018-02-30T10:00:00Z"), "INVALID_TIME_FORMAT"),
    ("an unknown type", one_log(type="SCROLL"), "INVALID_ACTION_TYPE"),
    ("a lower-case type", one_log(type="click"), "INVALID_ACTION_TYPE"),
    ("a click without locationX", one_log(properties={"locationY": 2}), "MISSING_LOCATION_X_VALUE"),
    (
        "a click with a null locationX",
        one_log(properties={"locationX": None, "locationY": 2}),
        "MISSING_LOCATION_X_VALUE",
    ),
    ("a click without locationY", one_log(properties={"locationX": 0}), "MISSING_LOCATION_Y_VALUE"),
    ("a view without viewedId", one_log(type="VIEW", properties={"x": 1}), "MISSING_VIEWEDID_VALUE"),
    ("a view with a blank viewedId", one_log(type="VIEW", properties={"viewedId": ""}), "MISSING_VIEWEDID_VALUE"),
    ("a navigate without pageFrom", one_log(type="NAVIGATE", properties={"pageTo": "b"}), "MISSING_PAGEFROM_VALUE"),
    ("a navigate without pageTo", one_log(type="NAVIGATE", properties={"pageFrom": "a"}), "MISSING_PAGETO_VALUE"),
    ("a log that is not an object", ["log"], "INVALID_LOG"),
    ("properties that are not an object", one_log(properties=[1, 2]), "INVALID_VALUE"),
    ("a location that is not a number", one_log(properties={"locationX": "left", "locationY": 2}), "INVALID_VALUE"),
    ("a time far in the future", one_log(time="2999-01-01T00:00:00Z"), "INVALID_VALUE"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "body", "code"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
def test_each_broken_rule_answers_its_code_and_stores_nothing(client, site, queue, case, body, code):
    response = post(client, body)
    assert code_of(response) == code
    assert queue.count == 0 and Event.objects.count() == 0


@pytest.mark.django_db
def test_an_error_names_the_log_and_action_at_fault(client, site, queue):
    body = seed_body()
    body[1]["actions"][1]["properties"] = {"pageFrom": "X"}
    response = post(client, body)
    assert response.json() == {
        "success": False,
        "code": "MISSING_PAGETO_VALUE",
        "field": "[1].actions[1].properties.pageTo",
        "rule": "is required",
    }


@pytest.mark.django_db
def test_a_standard_rule_of_the_event_registry_names_the_field_in_the_formats_terms(client, site, queue):
    body = seed_body()
    body[1]["sessionId"] = "s" * 129  # The Eye keeps session ids of at most 128 characters
    response = post(client, body)
    assert response.json()["code"] == "INVALID_VALUE"
    assert response.json()["field"] == "[1].sessionId"
    assert "128" in response.json()["rule"]


@pytest.mark.django_db
def test_one_bad_action_anywhere_rejects_the_whole_body(client, site, queue, run_worker):
    body = seed_body()
    body[1]["actions"][1]["time"] = "2018-10-20 21:37"
    assert code_of(post(client, body)) == "INVALID_TIME_FORMAT"
    assert run_worker() == 0
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_wrong_content_type_and_oversize_bodies_answer_in_the_formats_shape(
    client, site, queue, settings
):
    malformed = post(client, '[{"userId": ')
    assert malformed.status_code == 400
    assert malformed.json()["success"] is False and malformed.json()["code"] == "MALFORMED_JSON"

    wrong_type = post(client, "userId=u", content_type="application/x-www-form-urlencoded")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"

    settings.EVENTS_MAX_BODY_BYTES = 200
    too_large = post(client, seed_body())
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "BODY_TOO_LARGE"

    empty = post(client, "  ")
    assert code_of(empty) == "NO_LOGS_PROVIDED"
    assert Event.objects.count() == 0 and queue.count == 0


@pytest.mark.django_db
def test_more_actions_than_a_batch_may_hold_are_refused(client, site, queue, settings):
    settings.EVENTS_MAX_BATCH = 4
    assert code_of(post(client, seed_body())) == "TOO_MANY_ACTIONS"


@pytest.mark.django_db
def test_a_resent_body_is_stored_once_but_identical_actions_in_one_body_are_both_kept(client, site, queue, run_worker):
    body = seed_body()
    body[0]["actions"].append(copy.deepcopy(body[0]["actions"][0]))  # the same click twice
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    run_worker()
    assert Event.objects.count() == 6
    assert Event.objects.filter(user="ABC123XYZ", name="click").count() == 2


@pytest.mark.django_db
def test_logs_go_to_the_site_named_by_the_header_or_the_server_key(client, site, queue, run_worker):
    other = create_site(name="Other")
    keyed = create_site(name="Keyed")
    key = keyed.rotate_server_key()
    assert post(client, seed_body(), HTTP_X_SITE_ID=other.site_id).status_code == 200
    assert post(client, seed_body()[:1], HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    run_worker()
    assert Event.objects.filter(site=other).count() == 5
    assert Event.objects.filter(site=keyed).count() == 3

    wrong = post(client, seed_body(), HTTP_AUTHORIZATION="Bearer tes_wrong")
    assert wrong.status_code == 401 and wrong.json()["code"] == "BAD_SERVER_KEY"
    unknown = post(client, seed_body(), HTTP_X_SITE_ID="nosuchsite")
    assert code_of(unknown) == "UNKNOWN_SITE"


@pytest.mark.django_db
def test_a_browser_origin_the_site_does_not_list_is_refused(client, site, queue):
    refused = post(client, seed_body(), HTTP_ORIGIN="https://elsewhere.example")
    assert refused.status_code == 403 and refused.json()["code"] == "ORIGIN_NOT_ALLOWED"
    assert queue.count == 0
    assert post(client, seed_body(), HTTP_ORIGIN="http://localhost:8123").status_code == 200


@pytest.mark.django_db
def test_the_eye_api_also_accepts_logs_store_events_by_the_registry_rules(client, site, queue):
    event = {
        "session_id": "s",
        "category": "logs_store",
        "name": "click",
        "timestamp": "2024-01-01T00:00:00Z",
        "data": {"locationX": 3},
    }
    response = client.post("/api/events/", data=json.dumps(event), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "field": "data.locationY", "rule": "is required"}]


# --- GET /api/logs/ --------------------------------------------------------------------------


@pytest.fixture
def stored(client, site, queue, run_worker):
    """The seed body plus a third log, stored by the worker."""
    body = seed_body() + [
        {
            "userId": "ABC123XYZ",
            "sessionId": "second",
            "actions": [{"time": "2019-11-01T12:00:00+05:30", "type": "VIEW", "properties": {"viewedId": "V2"}}],
        }
    ]
    assert post(client, body).status_code == 200
    run_worker()
    return body


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


@pytest.mark.django_db
def test_get_answers_all_logs_grouped_by_user_and_session_in_the_same_shape(client, stored, staff_user):
    response = get(client, staff_user)
    assert response.status_code == 200
    logs = response.json()
    assert [(log["userId"], log["sessionId"]) for log in logs] == [
        ("ABC123XYZ", "XYZ456ABC"),
        ("asd", "asdfg"),
        ("ABC123XYZ", "second"),
    ]
    assert logs[0]["actions"][0] == {
        "time": "2018-10-19T03:37:28+00:00",
        "type": "CLICK",
        "properties": {"locationX": 52, "locationY": 11},
    }
    types = [a["type"] for a in logs[0]["actions"]]
    assert types[0] == "CLICK" and sorted(types[1:]) == ["NAVIGATE", "VIEW"]  # oldest first; VIEW and NAVIGATE tie
    # Two days apart, so stored as two visits; the format still shows the client's one sessionId.
    assert len(logs[1]["actions"]) == 2


@pytest.mark.django_db
def test_get_filters_by_user_and_keeps_only_matching_actions_of_the_types_asked(client, stored, staff_user):
    logs = get(client, staff_user, userId="ABC123XYZ", types="VIEW,NAVIGATE").json()
    assert [log["sessionId"] for log in logs] == ["XYZ456ABC", "second"]
    assert [a["type"] for a in logs[0]["actions"]] in (["VIEW", "NAVIGATE"], ["NAVIGATE", "VIEW"])
    assert [a["type"] for a in logs[1]["actions"]] == ["VIEW"]
    assert get(client, staff_user, userId="nobody").json() == []


@pytest.mark.django_db
def test_get_bounds_are_inclusive_and_accept_any_offset(client, stored, staff_user):
    # 2018-10-18T21:37:30-06:00 is the VIEW and NAVIGATE of the first log.
    logs = get(client, staff_user, **{"from": "2018-10-18T21:37:30-06:00", "to": "2018-10-19T03:37:30Z"}).json()
    assert [(log["userId"], sorted(a["type"] for a in log["actions"])) for log in logs] == [
        ("ABC123XYZ", ["NAVIGATE", "VIEW"])
    ]
    # A `+` offset sent unencoded arrives as a space and still means +05:30.
    since_2019 = client.get(URL + "?from=2019-01-01T00:00:00+05:30").json()
    assert [log["sessionId"] for log in since_2019] == ["second"]
    up_to_the_day = get(client, staff_user, to="2018-10-19").json()
    assert [log["sessionId"] for log in up_to_the_day] == ["XYZ456ABC", "asdfg"]
    assert sum(len(log["actions"]) for log in up_to_the_day) == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"from": "yesterday"}, "INVALID_TIME_FORMAT", "from"),
        ({"to": "2018-13-01"}, "INVALID_TIME_FORMAT", "to"),
        ({"types": "CLICK,SCROLL"}, "INVALID_ACTION_TYPE", "types"),
        ({"types": "click"}, "INVALID_ACTION_TYPE", "types"),
        ({"site": "nosuchsite"}, "UNKNOWN_SITE", "site"),
    ],
)
def test_get_answers_400_with_a_code_for_bad_parameters(client, stored, staff_user, params, code, field):
    body = get(client, staff_user, **params).json()
    assert body["success"] is False and body["code"] == code and body["field"] == field


@pytest.mark.django_db
def test_get_reads_one_site_when_asked(client, stored, staff_user, site):
    other = create_site(name="Other")
    assert get(client, staff_user, site=other.site_id).json() == []
    assert len(get(client, staff_user, site=site.site_id).json()) == 3


@pytest.mark.django_db
def test_get_is_for_staff_only(client, stored, django_user_model):
    anonymous = client.get(URL)
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["success"] is False and anonymous.json()["code"] == "NOT_AUTHENTICATED"
    visitor = django_user_model.objects.create_user("visitor", password="visitor-pass-123")
    refused = get(client, visitor)
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"


# --- Values the stores cannot keep; bounds that used to answer 500 (issue 12, findings 2 to 4) ---


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"userId": "u\x00", "sessionId": "s1", "actions": one_log()[0]["actions"]}], "[0].userId"),
        ([{"userId": "u1", "sessionId": "\ud800", "actions": one_log()[0]["actions"]}], "[0].sessionId"),
        (one_log(properties={"viewedId": "a\x00"}, type="VIEW"), "[0].actions[0].properties.viewedId"),
        (one_log(properties={"locationX": float("nan"), "locationY": 1}), "[0].actions[0].properties.locationX"),
        (one_log(properties={"locationX": 1, "locationY": float("inf")}), "[0].actions[0].properties.locationY"),
        (one_log(time="9999-12-31T23:59:59-05:00"), "[0].actions[0].time"),
        (one_log(time="0001-01-01T00:00:00+05:00"), "[0].actions[0].time"),
    ],
)
def test_a_value_the_stores_cannot_keep_is_refused_not_acknowledged(client, site, queue, body, field):
    response = post(client, json.dumps(body))
    assert code_of(response) in ("INVALID_VALUE", "INVALID_TIME_FORMAT")
    assert response.json()["field"] == field
    assert queue.count == 0


@pytest.mark.django_db
def test_properties_nested_ten_thousand_deep_are_a_400_in_the_formats_shape(client, site, queue):
    nested = "[" * 10_000 + "]" * 10_000
    body = '[{"userId": "u", "sessionId": "s", "actions": [{"time": "2020-01-01T00:00:00Z", "type": "VIEW", '
    body += f'"properties": {{"viewedId": "a", "x": {nested}}}}}]}}]'
    response = post(client, body)
    assert code_of(response) == "TOO_DEEP"
    assert queue.count == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"from": "9999-12-30"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"userId": "a\x00"},
        {"site": "\x00"},
    ],
)
def test_far_bounds_odd_offsets_and_nul_filters_are_a_400_when_reading(client, staff_user, site, params):
    response = get(client, staff_user, **params)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["field"] == next(iter(params))


@pytest.mark.django_db
def test_an_offset_postgresql_refuses_is_read_as_the_moment_it_names(client, stored, staff_user):
    # +18:21 is a valid ISO 8601 offset that PostgreSQL refuses; the bound is turned into UTC first.
    logs = get(client, staff_user, **{"from": "2019-11-02T00:51:00+18:21", "to": "2019-11-02T00:51:00+18:21"}).json()
    assert [log["sessionId"] for log in logs] == ["second"]


@pytest.mark.django_db
def test_an_unknown_method_is_a_405_in_the_formats_shape(client):
    response = client.generic("TRACE", URL)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
