"""The progress API: session + CSRF only, the session's learner only, rules named on bad input."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from events.models import Event
from progress import tracking
from progress.models import Progress
from progress.tests.factories import beat, learner, video

pytestmark = pytest.mark.django_db
HEARTBEAT = "/api/progress/heartbeat/"
MARK = "/api/progress/mark/"


def heartbeat_body(v, **overrides):
    body = {
        "id": str(uuid.uuid4()),
        "tutorial": v.tutorial_id,
        "language": v.language,
        "position": 12.0,
        "segments": [[0, 12.0]],
        "duration": 40.0,
        "reason": "pause",
    }
    body.update(overrides)
    return body


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def csrf_token(client) -> str:
    client.get("/tutorial-search/")  # any page rendering the token sets the cookie
    return client.cookies["csrftoken"].value


def test_a_heartbeat_answers_completed_percent_and_resume_point():
    user, v = learner(), video(duration=40)
    response = post(logged_in(user), HEARTBEAT, heartbeat_body(v))
    assert response.status_code == 200
    assert response.json() == {"completed": False, "percent": 30, "resume_at": 12.0}


def test_a_heartbeat_with_the_csrf_token_is_accepted_and_one_without_is_refused():
    user, v = learner(), video(duration=40)
    client = logged_in(user, csrf=True)
    refused = post(client, HEARTBEAT, heartbeat_body(v))
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert Progress.objects.count() == 0
    accepted = post(client, HEARTBEAT, heartbeat_body(v), HTTP_X_CSRFTOKEN=csrf_token(client))
    assert accepted.status_code == 200


def test_an_anonymous_heartbeat_is_refused_and_nothing_is_stored():
    v = video()
    response = post(Client(), HEARTBEAT, heartbeat_body(v))
    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"
    assert Progress.objects.count() == 0


def test_the_learner_comes_from_the_session_never_from_the_body():
    asha, ravi, v = learner("asha"), learner("ravi"), video()
    response = post(logged_in(asha), HEARTBEAT, heartbeat_body(v, learner=ravi.pk))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "learner", "rule": "is not a known field"}]
    assert not Progress.objects.filter(learner=ravi).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"segments": [[10, 5]]}, "segments", "each segment must end at or after its start"),
        ({"segments": [[0, 45]], "position": 1}, "segments", "must end within the video's length (40 s)"),
        ({"position": -1}, "position", "Ensure this value is greater than or equal to 0."),
        ({"position": 99}, "position", "must be at most the video's length (40 s)"),
        ({"language": "Tamil"}, "language", "must be a language this tutorial has a video in"),
        ({"id": "not-a-uuid"}, "id", "Must be a valid UUID."),
        ({"at": "2999-01-01T00:00:00Z"}, "at", "must not be more than 300 seconds in the future"),
        ({"reason": "teleport"}, "reason", '"teleport" is not a valid choice.'),
        ({"session_id": "s" * 129}, "session_id", "Ensure this field has no more than 128 characters."),
        ({"visitor_id": ""}, "visitor_id", "This field may not be blank."),
    ],
)
def test_a_bad_heartbeat_is_refused_with_the_field_and_rule_and_changes_nothing(overrides, field, rule):
    user, v = learner(), video(duration=40)
    response = post(logged_in(user), HEARTBEAT, heartbeat_body(v, **overrides))
    assert response.status_code == 400
    assert {"field": field, "rule": rule} in response.json()["errors"]
    assert Progress.objects.count() == 0


def test_a_heartbeat_claiming_more_playback_than_allowed_is_refused(settings):
    settings.PROGRESS_MAX_SECONDS_PER_HEARTBEAT = 30
    user, v = learner(), video(duration=100)
    response = post(logged_in(user), HEARTBEAT, heartbeat_body(v, segments=[[0, 20], [50, 71]], position=71))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "segments", "rule": "must add up to at most 30 seconds per heartbeat"}
    ]


def test_a_body_that_is_not_json_is_refused_as_json():
    user = learner()
    response = logged_in(user).post(HEARTBEAT, data="{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "parse_error"


def test_a_resent_heartbeat_is_stored_as_one_video_event(site, queue, run_worker):
    user, v = learner(), video(duration=40)
    client, body = logged_in(user), heartbeat_body(v)
    first, second = post(client, HEARTBEAT, body), post(client, HEARTBEAT, body)
    assert first.json() == second.json()
    run_worker()
    event = Event.objects.get()
    assert (event.category, event.name, event.user, event.data["position"]) == ("video", "heartbeat", "asha", 12.0)
    assert event.url == "http://testserver/watch/BASH/Introduction/English/"


def test_the_string_false_does_not_mark_a_tutorial_complete_and_every_broken_rule_is_listed():
    user, v = learner(), video()
    body = {"tutorial": v.tutorial_id, "language": v.language, "completed": "false", "user": "admin"}
    response = post(logged_in(user), MARK, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "user", "rule": "is not a known field"},
        {"field": "completed", "rule": "must be true or false"},
    ]
    assert not Progress.objects.filter(completed=True).exists()


def test_mark_complete_and_incomplete_answer_the_new_state():
    user, v = learner(), video(duration=40)
    client = logged_in(user)
    done = post(client, MARK, {"tutorial": v.tutorial_id, "language": v.language, "completed": True})
    assert done.json() == {"completed": True, "percent": 0, "resume_at": 0.0}
    undone = post(client, MARK, {"tutorial": v.tutorial_id, "language": v.language, "completed": False})
    assert undone.json()["completed"] is False


def test_a_learner_reads_their_own_progress_and_gets_404_for_another_learners():
    asha, ravi, v = learner("asha"), learner("ravi"), video(duration=40)
    tracking.record_heartbeat(learner=asha, video=v, heartbeat=beat((0, 20)))
    tracking.record_heartbeat(learner=ravi, video=v, heartbeat=beat((0, 40)))
    ravis = Progress.objects.get(learner=ravi)
    client = logged_in(asha)
    assert client.get(f"/api/progress/{ravis.pk}/").status_code == 404
    assert client.get(f"/api/progress/{ravis.pk}/").json()["error"] == "not_found"
    mine = client.get("/api/progress/").json()
    assert [(p["course"], p["tutorial_title"], p["percent"], p["completed"]) for p in mine] == [
        ("BASH", "Introduction", 50, False)
    ]
    assert client.get(f"/api/progress/{mine[0]['id']}/").json()["watched"] == [[0, 20]]


def test_anonymous_visitors_cannot_read_progress():
    assert Client().get("/api/progress/").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "\ud800"}, "reason"),  # the rule quotes the input: it must still render as JSON
        ({"tutorial": 10**20}, "tutorial"),  # past every database's integer
        ({"position": float("inf")}, "position"),
    ],
)
def test_values_no_database_keeps_are_a_400_naming_the_field(changes, field):
    user, v = learner(), video(duration=40)
    body = json.dumps(heartbeat_body(v, **changes)).replace("Infinity", "1e400")
    response = logged_in(user).post(HEARTBEAT, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert Progress.objects.count() == 0


def test_a_heartbeat_with_the_pages_tracker_ids_is_filed_under_that_visit_and_one_without_under_the_login(
    site, queue, run_worker
):
    user, v = learner(), video(duration=40)
    client = logged_in(user)
    post(client, HEARTBEAT, heartbeat_body(v, session_id="tracker-session-1", visitor_id="tracker-visitor-1"))
    post(client, HEARTBEAT, heartbeat_body(v, position=20.0, segments=[[12, 20]]))
    run_worker()
    tracked, untracked = Event.objects.order_by("data__position")
    assert (tracked.session_id, tracked.visitor_id) == ("tracker-session-1", "tracker-visitor-1")
    assert untracked.session_id not in ("", "tracker-session-1") and untracked.visitor_id != "tracker-visitor-1"
    assert client.session.session_key not in untracked.session_id  # only a hash of the login session
