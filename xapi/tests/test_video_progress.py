"""Video Profile statements sent to the LRS merge into the learner's progress by our own rules."""

from __future__ import annotations

import json
import uuid

import pytest

from progress.models import Progress
from progress.tests.factories import learner, video
from xapi.models import Statement
from xapi.video import parse_segments

pytestmark = pytest.mark.django_db

PROFILE = "https://w3id.org/xapi/video/"
ADL = "http://adlnet.gov/expapi/verbs/"
WATCH = "https://learn.example.org/watch/BASH/Introduction/English/"
ASHA = {"objectType": "Agent", "account": {"homePage": "https://learn.example.org", "name": "asha"}}


def said(verb, *, at, actor=ASHA, result=None, length=40):
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"id": WATCH, "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"}},
        "result": {"extensions": result or {}},
        "context": {"extensions": {PROFILE + "extensions/length": length}},
        "timestamp": f"2026-03-01T09:00:{at:02d}Z",
    }


def session(actor=ASHA):
    """Initialized, played to 34 s of 40 (85 %) with a skip, paused, completed."""
    played = "0[.]20[,]22[.]36"
    return [
        said(ADL + "initialized", at=0, actor=actor),
        said(PROFILE + "verbs/played", at=1, actor=actor, result={PROFILE + "extensions/time": 0}),
        said(
            PROFILE + "verbs/paused",
            at=40,
            actor=actor,
            result={PROFILE + "extensions/time": 36, PROFILE + "extensions/played-segments": played},
        ),
        said(
            ADL + "completed",
            at=41,
            actor=actor,
            result={PROFILE + "extensions/time": 36, PROFILE + "extensions/played-segments": played},
        ),
    ]


def post(client, headers, body):
    return client.post("/xapi/statements", data=json.dumps(body), content_type="application/json", **headers)


def test_a_played_session_covering_85_percent_completes_the_tutorial_in_my_learning(client, lrs):
    _, headers = lrs
    video()
    asha = learner("asha")
    for one in session():
        assert post(client, headers, one).status_code == 200
    row = Progress.objects.get(learner=asha)
    assert row.completed and row.completed_how == "auto"
    assert row.watched == [[0, 20], [22, 36]] and row.watched_seconds == 34
    assert row.last_position == 36
    client.force_login(asha)
    page = client.get("/my-learning/").content.decode()
    assert "1 of 1 tutorials completed" in page and "Course completed" in page


def test_a_learner_found_by_mbox_is_merged_too(client, lrs):
    _, headers = lrs
    video()
    ravi = learner("ravi")
    ravi.email = "Ravi@Example.org"
    ravi.save()
    assert post(client, headers, session(actor={"mbox": "mailto:ravi@example.org"})).status_code == 200
    assert Progress.objects.get(learner=ravi).watched_seconds == 34


def test_seeking_to_the_end_moves_the_resume_point_but_completes_nothing(client, lrs):
    _, headers = lrs
    video()
    asha = learner("asha")
    seek = said(
        PROFILE + "verbs/seeked",
        at=5,
        result={
            PROFILE + "extensions/time-from": 0,
            PROFILE + "extensions/time-to": 39,
            PROFILE + "extensions/played-segments": "0[.]39",
        },
    )
    assert post(client, headers, [said(ADL + "initialized", at=0), seek]).status_code == 200
    row = Progress.objects.get(learner=asha)
    assert not row.completed and row.watched_seconds == 0 and row.last_position == 39


def test_replaying_the_same_statements_changes_nothing(client, lrs):
    _, headers = lrs
    video()
    asha = learner("asha")
    statements = session()[:3]  # not yet 85 %: played 0-20 only
    statements[2]["result"]["extensions"][PROFILE + "extensions/played-segments"] = "0[.]20"
    statements[2]["result"]["extensions"][PROFILE + "extensions/time"] = 20
    assert post(client, headers, statements).status_code == 200
    before = Progress.objects.values("watched", "watched_seconds", "last_position", "completed", "visits").get(
        learner=asha
    )
    assert before["watched_seconds"] == 20
    for one in statements:
        assert post(client, headers, one).status_code == 200
    assert post(client, headers, statements).status_code == 200
    after = Progress.objects.values("watched", "watched_seconds", "last_position", "completed", "visits").get(
        learner=asha
    )
    assert after == before and Statement.objects.count() == 3


def test_an_actor_that_is_no_user_is_stored_but_not_merged(client, lrs):
    _, headers = lrs
    video()
    learner("asha")
    stranger = {"account": {"homePage": "https://learn.example.org", "name": "nobody"}}
    statements = session(actor=stranger)
    assert post(client, headers, statements).status_code == 200
    assert Statement.objects.filter(pk__in=[s["id"] for s in statements]).count() == 4
    assert not Progress.objects.exists()


def test_statements_about_an_uncatalogued_page_or_with_broken_segments_are_stored_but_not_merged(client, lrs):
    _, headers = lrs
    video()
    learner("asha")
    elsewhere = session()[2]
    elsewhere["object"]["id"] = "https://learn.example.org/watch/BASH/Missing/English/"
    broken = session()[3]
    broken["result"]["extensions"][PROFILE + "extensions/played-segments"] = "0[.]x"
    assert post(client, headers, [elsewhere, broken]).status_code == 200
    assert Statement.objects.count() == 2 and not Progress.objects.exists()


def test_played_segments_are_read_as_the_profile_writes_them():
    assert parse_segments("0[.]10[,]12[.]30") == [[0.0, 10.0], [12.0, 30.0]]
    assert parse_segments("1.5[.]2.25") == [[1.5, 2.25]]
    assert parse_segments("") == []
    for bad in ("0[.]", "10[.]5", "-1[.]3", "a[.]b", "0[.]1[.]2", 7, "nan[.]1"):
        assert parse_segments(bad) is None
