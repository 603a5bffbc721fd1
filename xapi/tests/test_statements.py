"""The minimal xAPI LRS over HTTP: about, storing, conflicts, voiding, queries and their errors."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from events.models import Event
from xapi.models import Statement

pytestmark = pytest.mark.django_db

VERBS = "http://adlnet.gov/expapi/verbs/"
ASHA = {"objectType": "Agent", "name": "Asha", "mbox": "mailto:asha@example.org"}
RAVI = {"account": {"homePage": "https://spoken-tutorial.org", "name": "ravi"}}
COURSE = "https://spoken-tutorial.org/courses/python"


def statement(verb="completed", actor=ASHA, activity=COURSE, **extra):
    return {
        "actor": actor,
        "verb": {"id": VERBS + verb, "display": {"en-US": verb}},
        "object": {"id": activity},
        **extra,
    }


def post(client, headers, body):
    return client.post("/xapi/statements", data=json.dumps(body), content_type="application/json", **headers)


def test_about_names_the_version_without_credentials(client):
    response = client.get("/xapi/about")
    assert response.status_code == 200 and response.json() == {"version": ["1.0.3"]}
    assert response["X-Experience-API-Version"] == "1.0.3"


def test_statements_are_stored_with_their_ids_and_become_events(client, lrs, queue, run_worker):
    site, headers = lrs
    given = str(uuid.uuid4())
    response = post(client, headers, [statement(id=given), statement("attempted", actor=RAVI)])
    assert response.status_code == 200
    ids = response.json()
    assert ids[0] == given and len(ids) == 2
    stored = Statement.objects.get(pk=given)
    assert stored.agent == "mbox:mailto:asha@example.org" and stored.verb == VERBS + "completed"
    assert stored.statement["authority"]["account"]["name"] == site.site_id and stored.statement["version"] == "1.0.3"
    run_worker()
    event = Event.objects.get(id=given)
    assert (event.category, event.name, event.user) == ("xapi", "statement", "mailto:asha@example.org")
    assert event.data["verb"] == VERBS + "completed"


def test_a_statement_resent_unchanged_is_kept_once_and_with_other_content_is_a_conflict(client, lrs):
    _, headers = lrs
    same = statement(id=str(uuid.uuid4()))
    assert post(client, headers, same).status_code == 200
    assert post(client, headers, same).status_code == 200
    assert Statement.objects.count() == 1
    response = post(client, headers, {**same, "verb": {"id": VERBS + "failed"}})
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "id"


def test_put_stores_under_the_given_id_and_answers_204(client, lrs):
    _, headers = lrs
    statement_id = str(uuid.uuid4())
    response = client.put(
        f"/xapi/statements?statementId={statement_id}",
        data=json.dumps(statement()),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 204
    found = client.get(f"/xapi/statements?statementId={statement_id}", **headers)
    assert found.status_code == 200 and found.json()["id"] == statement_id
    assert found["X-Experience-API-Consistent-Through"]


def test_a_voided_statement_is_read_only_by_its_voided_id_and_left_out_of_queries(client, lrs):
    _, headers = lrs
    [target] = post(client, headers, [statement()]).json()
    voiding = statement("voided", object={"objectType": "StatementRef", "id": target})
    assert post(client, headers, voiding).status_code == 200
    assert client.get(f"/xapi/statements?statementId={target}", **headers).status_code == 404
    assert client.get(f"/xapi/statements?voidedStatementId={target}", **headers).json()["id"] == target
    listed = client.get(f"/xapi/statements?verb={VERBS}completed", **headers).json()
    assert listed["statements"] == []


def test_queries_filter_by_agent_verb_and_activity_and_page_with_a_more_link(client, lrs):
    _, headers = lrs
    post(
        client, headers, [statement(), statement("attempted"), statement(actor=RAVI), statement(activity=COURSE + "/2")]
    )
    agent = json.dumps(ASHA)
    mine = client.get("/xapi/statements", {"agent": agent, "verb": VERBS + "completed"}, **headers).json()
    assert {s["object"]["id"] for s in mine["statements"]} == {COURSE, COURSE + "/2"}
    first = client.get("/xapi/statements", {"activity": COURSE, "limit": 2, "ascending": "true"}, **headers).json()
    assert len(first["statements"]) == 2 and first["more"]
    rest = client.get(first["more"], **headers).json()
    assert len(rest["statements"]) == 1 and rest["more"] == ""
    seen = [s["id"] for s in first["statements"] + rest["statements"]]
    assert len(set(seen)) == 3


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (statement(actor={"name": "nobody"}), "actor", "must have exactly one of"),
        (statement(actor={"mbox": "asha@example.org"}), "actor.mbox", "must be a mailto: IRI"),
        ({**statement(), "verb": {"id": "completed"}}, "verb.id", "must be an IRI"),
        ({**statement(), "id": "not-a-uuid"}, "id", "must be a UUID"),
        ({**statement(), "timestamp": "2024-01-01T10:00:00"}, "timestamp", "must carry a time zone"),
        ({**statement(), "colour": "red"}, "colour", "is not a property"),
        ([statement(), {**statement(), "object": "x"}], "[1].object", "must be a JSON object"),
        (statement("voided"), "object", "of a voiding statement must be a StatementRef"),
    ],
)
def test_a_broken_rule_is_a_400_naming_it_and_nothing_is_stored(client, lrs, body, field, rule):
    _, headers = lrs
    response = post(client, headers, body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field and error["rule"].startswith(rule)
    assert not Statement.objects.exists()


def test_credentials_and_the_version_header_are_required(client, lrs):
    site, headers = lrs
    no_auth = {"HTTP_X_EXPERIENCE_API_VERSION": "1.0.3"}
    response = post(client, no_auth, statement())
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")
    wrong = base64.b64encode(f"{site.site_id}:tes_wrong".encode()).decode()
    assert post(client, {**no_auth, "HTTP_AUTHORIZATION": f"Basic {wrong}"}, statement()).status_code == 401
    without_version = {"HTTP_AUTHORIZATION": headers["HTTP_AUTHORIZATION"]}
    response = post(client, without_version, statement())
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "X-Experience-API-Version"
    assert not Statement.objects.exists()
