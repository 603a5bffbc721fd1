"""The State resource over HTTP: documents per activity, agent and registration; merging; ETags."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest

from xapi.tests.test_statements import ASHA, RAVI

pytestmark = pytest.mark.django_db

LESSON = "https://spoken-tutorial.org/courses/python/lesson-1"


def url(agent=ASHA, **params):
    return "/xapi/activities/state?" + urlencode({"activityId": LESSON, "agent": json.dumps(agent), **params})


def test_documents_are_kept_apart_per_agent_and_registration_and_merge_on_post(client, lrs):
    _, headers = lrs
    registration = str(uuid.uuid4())
    put = client.put(url(stateId="bookmark"), data='{"position": 42}', content_type="application/json", **headers)
    assert put.status_code == 204
    client.put(url(RAVI, stateId="bookmark"), data='{"position": 7}', content_type="application/json", **headers)
    client.put(
        url(stateId="bookmark", registration=registration), data="{}", content_type="application/json", **headers
    )
    merged = client.post(url(stateId="bookmark"), data='{"speed": 2}', content_type="application/json", **headers)
    assert merged.status_code == 204
    mine = client.get(url(stateId="bookmark"), **headers)
    assert json.loads(mine.content) == {"position": 42, "speed": 2} and mine["ETag"]
    assert json.loads(client.get(url(RAVI, stateId="bookmark"), **headers).content) == {"position": 7}
    assert client.get(url(), **headers).json() == ["bookmark"]
    assert client.delete(url(), **headers).status_code == 204  # all of Asha's without a registration
    assert client.get(url(stateId="bookmark"), **headers).status_code == 404
    assert client.get(url(stateId="bookmark", registration=registration), **headers).status_code == 200


def test_preconditions_and_merging_rules_are_answered_with_their_status(client, lrs):
    _, headers = lrs
    client.put(url(stateId="notes"), data="plain words", content_type="text/plain", **headers)
    refused = client.put(
        url(stateId="notes"), data="other", content_type="text/plain", HTTP_IF_NONE_MATCH="*", **headers
    )
    assert refused.status_code == 412 and refused.json()["errors"][0]["field"] == "If-None-Match"
    stale = client.put(url(stateId="notes"), data="x", content_type="text/plain", HTTP_IF_MATCH='"0000"', **headers)
    assert stale.status_code == 412
    merge = client.post(url(stateId="notes"), data='{"a": 1}', content_type="application/json", **headers)
    assert merge.status_code == 400 and merge.json()["errors"][0]["field"] == "Content-Type"
    assert client.get(url(stateId="notes"), **headers).content == b"plain words"
    no_agent = client.get("/xapi/activities/state?" + urlencode({"activityId": LESSON}), **headers)
    assert no_agent.status_code == 400 and no_agent.json()["errors"][0]["field"] == "agent"
