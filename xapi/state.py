"""The xAPI State resource: documents an activity keeps per learner (a player's bookmark, say).

A document is named by (activity, agent, registration, stateId). PUT replaces it, POST merges a
JSON object into a stored JSON object (the specification's rule; anything else is a 400), GET
reads one (or, without stateId, lists the ids), DELETE removes one or all. Each document has an
ETag (a hash of its content) for clients that send If-Match / If-None-Match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from events.models import Site
from xapi.models import StateDocument
from xapi.statements import XapiError, _iri, _moment, _object, _uuid, agent_key

JSON = "application/json"


@dataclass(frozen=True)
class Key:
    activity: str
    agent: str
    registration: str

    def filter(self, site: Site) -> Any:
        return StateDocument.objects.filter(
            site=site, activity=self.activity, agent=self.agent, registration=self.registration
        )


def parse_key(params: Any) -> Key:
    """activityId, agent (JSON) and registration of a request; raises `XapiError` naming one."""
    activity = _iri(params.get("activityId"), "activityId")
    try:
        agent = agent_key(_object(json.loads(params.get("agent") or "null"), "agent"), "agent")
    except ValueError:
        raise XapiError("agent", "must be an Agent as JSON") from None
    registration = _uuid(params["registration"], "registration") if params.get("registration") else ""
    return Key(activity=activity, agent=agent, registration=registration)


def _etag(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()  # noqa: S324 - an ETag, not a secret


def _check_precondition(document: StateDocument | None, *, if_match: str, if_none_match: str) -> None:
    if if_match and (document is None or if_match.strip('"') != document.etag):
        raise XapiError("If-Match", "does not match the stored document", status=412)
    if if_none_match == "*" and document is not None:
        raise XapiError("If-None-Match", "a document already exists", status=412)


def save(
    *,
    site: Site,
    key: Key,
    state_id: str,
    content: bytes,
    content_type: str,
    merge: bool,
    if_match: str = "",
    if_none_match: str = "",
) -> StateDocument:
    """Store (PUT) or merge (POST) one document; atomic. Raises `XapiError` 400 or 412."""
    if not state_id:
        raise XapiError("stateId", "is required")
    content_type = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    with transaction.atomic():
        document = key.filter(site).select_for_update().filter(state_id=state_id).first()
        _check_precondition(document, if_match=if_match, if_none_match=if_none_match)
        if merge and document is not None:
            if content_type != JSON or document.content_type != JSON:
                raise XapiError("Content-Type", "must be application/json to merge into a JSON document")
            try:
                old, new = json.loads(bytes(document.content)), json.loads(content)
            except ValueError:
                raise XapiError("body", "must be a JSON object to merge") from None
            if not isinstance(old, dict) or not isinstance(new, dict):
                raise XapiError("body", "must be a JSON object to merge")
            content = json.dumps({**old, **new}).encode()
        elif merge and content_type == JSON:
            try:
                if not isinstance(json.loads(content), dict):
                    raise ValueError
            except ValueError:
                raise XapiError("body", "must be a JSON object") from None
        now = datetime.now(UTC)
        if document is None:
            document = StateDocument(
                site=site,
                activity=key.activity,
                agent=key.agent,
                registration=key.registration,
                state_id=state_id,
            )
        document.content, document.content_type = content, content_type
        document.etag, document.updated = _etag(content), now
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError:  # another request made it between the read and the insert
            raise XapiError("stateId", "was written at the same moment; send again", status=409) from None
    return document


def read(*, site: Site, key: Key, state_id: str) -> StateDocument:
    document = key.filter(site).filter(state_id=state_id).first()
    if document is None:
        raise XapiError("stateId", "no such document", status=404)
    return document


def ids(*, site: Site, key: Key, since: str | None) -> list[str]:
    documents = key.filter(site)
    if since:
        documents = documents.filter(updated__gt=_moment(since, "since"))
    return list(documents.order_by("state_id").values_list("state_id", flat=True))


def delete(*, site: Site, key: Key, state_id: str | None, if_match: str = "") -> None:
    documents = key.filter(site)
    if state_id:
        documents = documents.filter(state_id=state_id)
        if if_match:
            _check_precondition(documents.first(), if_match=if_match, if_none_match="")
    documents.delete()
