"""The LRS driven by a real xAPI client: npm `@xapi/xapi` in Node, through its own API only."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from events.models import Event, Site
from events.tests import js_clients
from xapi.models import Statement

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_xapi_package_sends_reads_pages_and_voids_statements_and_keeps_a_bookmark_in_state(live_server, run_worker):
    folder = js_clients.node_modules().parent
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it comes with npm)")
    site = Site.objects.create(name="LRS", allow_custom_events=False)
    key = site.rotate_server_key()
    done = subprocess.run(
        [node, "xapi_client.js", f"{live_server.url}/xapi/", site.site_id, key],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    assert result["about"] == {"version": ["1.0.3"]}
    assert result["read"]["id"] == result["passed"] and result["read"]["result"]["score"]["scaled"] == 0.9
    assert result["voided"]["id"] == result["attempted"] and result["missing"] == 404
    # Three statements about the lesson are left once one is voided: one on each page, then one more.
    assert [s["id"] for s in result["firstPage"]["statements"]] == [result["completed"]]
    assert [s["id"] for s in result["secondPage"]["statements"]] == [result["passed"]]
    assert Statement.objects.filter(site=site).count() == 4  # three and the voiding one
    assert result["bookmark"] == {"position": 42, "speed": 1.5} and result["stateIds"] == ["bookmark"]
    assert result["deleted"] == 404
    assert Statement.objects.get(pk=result["attempted"]).voided
    run_worker()
    assert Event.objects.filter(site=site, category="xapi").count() == 4


def test_the_python_tincan_library_saves_reads_queries_voids_and_keeps_state(live_server):
    from tincan import Activity, Agent, RemoteLRS, Statement, StatementRef, Verb
    from tincan.documents import StateDocument

    site = Site.objects.create(name="LRS", allow_custom_events=False)
    lrs = RemoteLRS(
        endpoint=f"{live_server.url}/xapi/", username=site.site_id, password=site.rotate_server_key(), version="1.0.3"
    )
    asha = Agent(name="Asha", mbox="mailto:asha@example.org")
    lesson = Activity(id="https://spoken-tutorial.org/courses/python/lesson-1")
    completed = Verb(id="http://adlnet.gov/expapi/verbs/completed")
    attempted = Verb(id="http://adlnet.gov/expapi/verbs/attempted")

    about = lrs.about()
    assert about.success and "1.0.3" in about.content.version
    saved = lrs.save_statement(Statement(actor=asha, verb=completed, object=lesson))
    assert saved.success and saved.content.id
    both = lrs.save_statements([Statement(actor=asha, verb=attempted, object=lesson) for _ in range(2)])
    assert both.success
    first_attempt, second_attempt = (str(s.id) for s in both.content)

    read = lrs.retrieve_statement(saved.content.id)
    assert read.success and read.content.verb.id == completed.id and read.content.actor.mbox == asha.mbox
    found = lrs.query_statements({"agent": asha, "verb": attempted, "ascending": True})
    assert found.success and [str(s.id) for s in found.content.statements] == [first_attempt, second_attempt]

    voided = Verb(id="http://adlnet.gov/expapi/verbs/voided")
    assert lrs.save_statement(Statement(actor=asha, verb=voided, object=StatementRef(id=first_attempt))).success
    assert str(lrs.retrieve_voided_statement(first_attempt).content.id) == first_attempt
    assert not lrs.retrieve_statement(first_attempt).success  # a voided statement is no longer read by its id

    bookmark = StateDocument(id="bookmark", activity=lesson, agent=asha, content_type="application/json")
    bookmark.content = '{"position": 42}'
    assert lrs.save_state(bookmark).success
    state = lrs.retrieve_state(lesson, asha, "bookmark")
    assert state.success and json.loads(bytes(state.content.content)) == {"position": 42}


def test_a_video_profile_session_sent_by_tincan_completes_the_tutorial_in_my_learning(live_server, client):
    from tincan import Activity, Agent, Context, Extensions, RemoteLRS, Result, Verb
    from tincan import Statement as TinCanStatement

    from progress.models import Progress
    from progress.tests.factories import learner, video

    video(duration=40)
    asha = learner("asha")
    site = Site.objects.create(name="LRS", allow_custom_events=False)
    lrs = RemoteLRS(
        endpoint=f"{live_server.url}/xapi/", username=site.site_id, password=site.rotate_server_key(), version="1.0.3"
    )
    actor = Agent(account={"home_page": "https://learn.example.org", "name": "asha"})
    watch = Activity(id="https://learn.example.org/watch/BASH/Introduction/English/")
    profile = "https://w3id.org/xapi/video/"
    length = Context(extensions=Extensions({profile + "extensions/length": 40}))

    def said(verb: str, **result: object) -> TinCanStatement:
        extensions = Extensions({profile + "extensions/" + k.replace("_", "-"): v for k, v in result.items()})
        return TinCanStatement(
            actor=actor, verb=Verb(id=verb), object=watch, result=Result(extensions=extensions), context=length
        )

    session = [
        said("http://adlnet.gov/expapi/verbs/initialized"),
        said(profile + "verbs/played", time=0),
        said(profile + "verbs/paused", time=35, played_segments="0[.]35"),
        said("http://adlnet.gov/expapi/verbs/completed", time=35, played_segments="0[.]35"),
    ]
    for statement in session:
        assert lrs.save_statement(statement).success

    row = Progress.objects.get(learner=asha)
    assert row.completed and row.watched_seconds == 35 and row.last_position == 35
    client.force_login(asha)
    assert "1 of 1 tutorials completed" in client.get("/my-learning/").content.decode()
