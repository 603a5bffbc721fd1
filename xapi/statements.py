"""The one write path for xAPI statements (Experience API 1.0.3), their rules and their queries.

`store()` checks every statement of a request against the rules below (all or nothing, each broken
rule named by its path, e.g. `[1].actor.mbox`), stores them, marks the targets of voiding
statements, and hands each statement to `events.ingest.accept()` as an `xapi/statement` event, so
statements count on the dashboards like every other event; Video Profile statements of a
learner about a catalogued tutorial also merge into their progress (`xapi.video`). A statement
id already stored with the same content is accepted again without a second row; with different
content it is a conflict (409).

What the rules cover: the statement's own properties (unknown ones refused), `id` and
`context.registration` as UUIDs, an Agent actor with exactly one identifier (`mbox` as `mailto:`,
`mbox_sha1sum`, `openid`, `account {homePage, name}`) or a Group, a verb with an IRI id and an
optional language map, an object that is an Activity (IRI id), an Agent/Group, a StatementRef
(UUID id) or a SubStatement, ISO 8601 timestamps with a zone, and voiding (`.../verbs/voided`
with a StatementRef object, which may not target another voiding statement). Left out: signed
statements and attachments, and the deeper rules of SubStatements and interaction activities.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from events import ingest
from events.models import Site
from events.validation import EventValidationError, register_event_type, required, text
from xapi import video
from xapi.models import Statement

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
PROPERTIES = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
# Set by the LRS: ignored when a resent statement is compared with the stored one.
LRS_SET = ("stored", "authority", "version")
MAX_LIMIT = 500

register_event_type("xapi", "statement", data={"verb": required(text(2048)), "statement_id": required(text(36))})


class XapiError(Exception):
    """A request broke a rule of the specification; `status` is 400, 404 or 409."""

    def __init__(self, field: str, rule: str, *, status: int = 400) -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule
        self.status = status


# --- Rules ----------------------------------------------------------------------------------------


def _iri(value: Any, where: str) -> str:
    if not isinstance(value, str) or not urlsplit(value).scheme or " " in value:
        raise XapiError(where, "must be an IRI (an absolute URI such as http://adlnet.gov/expapi/verbs/completed)")
    return value


def _uuid(value: Any, where: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise XapiError(where, "must be a UUID") from None


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise XapiError(where, "must be an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise XapiError(where, "must be an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise XapiError(where, "must carry a time zone (Z or an offset)")
    return moment.astimezone(UTC)


def _language_map(value: Any, where: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise XapiError(where, 'must be a language map such as {"en-US": "completed"}')


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise XapiError(where, "must be a JSON object")
    return value


def agent_key(agent: dict[str, Any], where: str = "actor") -> str:
    """The one identifier of an Agent, as the text the LRS queries on (e.g. `mbox:mailto:a@b.org`)."""
    found = [name for name in ("mbox", "mbox_sha1sum", "openid", "account") if agent.get(name) is not None]
    if len(found) != 1:
        raise XapiError(where, "must have exactly one of mbox, mbox_sha1sum, openid, account")
    name = found[0]
    value = agent[name]
    if name == "mbox" and (not isinstance(value, str) or not value.startswith("mailto:")):
        raise XapiError(f"{where}.mbox", "must be a mailto: IRI")
    if name == "mbox_sha1sum" and (not isinstance(value, str) or len(value) != 40):
        raise XapiError(f"{where}.mbox_sha1sum", "must be 40 hexadecimal digits")
    if name == "openid":
        _iri(value, f"{where}.openid")
    if name == "account":
        account = _object(value, f"{where}.account")
        _iri(account.get("homePage"), f"{where}.account.homePage")
        if not isinstance(account.get("name"), str) or not account["name"]:
            raise XapiError(f"{where}.account.name", "must be a non-empty string")
        return f"account:{account['homePage']}|{account['name']}"
    return f"{name}:{value}"


def _actor(value: Any, where: str) -> str:
    actor = _object(value, where)
    kind = actor.get("objectType", "Agent")
    if kind == "Agent":
        return agent_key(actor, where)
    if kind != "Group":
        raise XapiError(f"{where}.objectType", "must be Agent or Group")
    members = actor.get("member")
    if members is not None:
        if not isinstance(members, list):
            raise XapiError(f"{where}.member", "must be a list of Agents")
        for i, member in enumerate(members):
            agent_key(_object(member, f"{where}.member[{i}]"), f"{where}.member[{i}]")
    if any(actor.get(n) is not None for n in ("mbox", "mbox_sha1sum", "openid", "account")):
        return agent_key(actor, where)
    if not members:
        raise XapiError(where, "an anonymous Group must list its members")
    return ""


@dataclass(frozen=True)
class Checked:
    statement: dict[str, Any]
    agent: str
    verb: str
    activity: str
    registration: str | None
    timestamp: datetime
    voids: str | None  # the id a voiding statement voids
    timestamp_given: bool = True  # False: the LRS set it, so a resend is compared without it


def check(raw: Any, *, where: str = "", statement_id: str | None = None) -> Checked:
    """Check one statement; return it with an id and the columns it is queried by."""
    statement = dict(_object(raw, where or "statement"))
    prefix = f"{where}." if where else ""
    for name in statement:
        if name not in PROPERTIES:
            raise XapiError(f"{prefix}{name}", "is not a property of a statement")
    if statement.get("id") is not None:
        statement["id"] = _uuid(statement["id"], f"{prefix}id")
        if statement_id and statement["id"] != statement_id:
            raise XapiError(f"{prefix}id", "must equal the statementId parameter")
    else:
        statement["id"] = statement_id or str(uuid.uuid4())
    agent = _actor(statement.get("actor"), f"{prefix}actor")
    verb = _object(statement.get("verb"), f"{prefix}verb")
    verb_id = _iri(verb.get("id"), f"{prefix}verb.id")
    if "display" in verb:
        _language_map(verb["display"], f"{prefix}verb.display")
    target = _object(statement.get("object"), f"{prefix}object")
    kind = target.get("objectType", "Activity")
    activity, voids = "", None
    if kind == "Activity":
        activity = _iri(target.get("id"), f"{prefix}object.id")
    elif kind in ("Agent", "Group"):
        _actor(target, f"{prefix}object")
    elif kind == "StatementRef":
        voids = _uuid(target.get("id"), f"{prefix}object.id")
    elif kind != "SubStatement":
        raise XapiError(f"{prefix}object.objectType", "must be Activity, Agent, Group, StatementRef or SubStatement")
    if verb_id == VOIDED and kind != "StatementRef":
        raise XapiError(f"{prefix}object", "of a voiding statement must be a StatementRef")
    for name in ("result", "context"):
        if statement.get(name) is not None:
            _object(statement[name], f"{prefix}{name}")
    registration = None
    if (statement.get("context") or {}).get("registration") is not None:
        registration = _uuid(statement["context"]["registration"], f"{prefix}context.registration")
    version = statement.get("version")
    if version is not None and (not isinstance(version, str) or not version.startswith("1.0")):
        raise XapiError(f"{prefix}version", "must be 1.0.x")
    now = datetime.now(UTC)
    timestamp_given = "timestamp" in statement
    moment = _moment(statement["timestamp"], f"{prefix}timestamp") if "timestamp" in statement else now
    statement.setdefault("timestamp", moment.isoformat().replace("+00:00", "Z"))
    return Checked(
        statement=statement,
        agent=agent,
        verb=verb_id,
        activity=activity,
        registration=registration,
        timestamp=moment,
        voids=voids if verb_id == VOIDED else None,
        timestamp_given=timestamp_given,
    )


# --- Storing ---------------------------------------------------------------------------------------


def _same(stored: dict[str, Any], sent: Checked) -> bool:
    ignored = LRS_SET if sent.timestamp_given else (*LRS_SET, "timestamp")

    def comparable(s: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in s.items() if k not in ignored}, sort_keys=True)

    return comparable(stored) == comparable(sent.statement)


def _event(*, site: Site, item: Checked) -> dict[str, Any]:
    who = item.agent.split(":", 1)[-1]
    return {
        "id": item.statement["id"],
        "site_id": site.site_id,
        "session_id": item.registration or f"xapi-{uuid.uuid5(uuid.NAMESPACE_URL, item.agent or 'anonymous')}",
        "category": "xapi",
        "name": "statement",
        "timestamp": item.timestamp.isoformat(),
        "user": who[:150],
        "data": {"verb": item.verb, "statement_id": item.statement["id"], "activity": item.activity},
    }


def store(*, site: Site, payload: Any, statement_id: str | None = None) -> list[str]:
    """Store one statement or a list of them for `site`; return their ids, in order.

    Atomic and idempotent: any broken rule (`XapiError` 400), an id stored with other content
    (409) or a voiding statement whose target is missing or itself voiding (400) stores nothing;
    a statement resent unchanged is not stored twice.
    """
    batch = payload if isinstance(payload, list) else [payload]
    if not batch:
        raise XapiError("statements", "must hold at least one statement")
    many = isinstance(payload, list)
    checked = [check(raw, where=f"[{i}]" if many else "", statement_id=statement_id) for i, raw in enumerate(batch)]
    ids = [c.statement["id"] for c in checked]
    if len(set(ids)) != len(ids):
        raise XapiError("id", "must be unique within the request")
    stored_at = datetime.now(UTC)
    authority = {"objectType": "Agent", "account": {"homePage": "urn:the-eye:site", "name": site.site_id}}
    with transaction.atomic():
        existing = {str(s.pk): s for s in Statement.objects.select_for_update().filter(pk__in=ids)}
        fresh: list[Checked] = []
        for item in checked:
            known = existing.get(item.statement["id"])
            if known is None:
                fresh.append(item)
            elif known.site_id != site.pk or not _same(known.statement, item):
                raise XapiError("id", f"{item.statement['id']} is already stored with other content", status=409)
        void_ids = [item.voids for item in fresh if item.voids]
        targets = {str(s.pk): s for s in Statement.objects.filter(site=site, pk__in=void_ids)}
        for target_id in void_ids:
            target = targets.get(target_id)
            if target is None:
                raise XapiError("object.id", f"must name a stored statement: {target_id} is not stored")
            if target.verb == VOIDED:
                raise XapiError("object.id", "must not name a voiding statement")
        rows = []
        for position, item in enumerate(fresh):
            # One microsecond apart: queries by stored time list a batch in the order it was sent.
            stored = stored_at + timedelta(microseconds=position)
            statement = {
                **item.statement,
                "stored": stored.isoformat().replace("+00:00", "Z"),
                "authority": authority,
                "version": VERSION,
            }
            rows.append(
                Statement(
                    id=item.statement["id"],
                    site=site,
                    statement=statement,
                    agent=item.agent[:600],
                    verb=item.verb,
                    activity=item.activity,
                    registration=item.registration,
                    timestamp=item.timestamp,
                    stored=stored,
                )
            )
        Statement.objects.bulk_create(rows)
        Statement.objects.filter(site=site, pk__in=void_ids).update(voided=True)
        for item in fresh:
            if item.statement["id"] not in void_ids:
                video.merge(statement=item.statement, verb=item.verb, activity=item.activity, at=item.timestamp)
        if fresh:
            try:
                events = [_event(site=site, item=item) for item in fresh]
                ingest.accept(site=site, payload=events, sender=ingest.Sender(source="xapi", visitor=False))
            except EventValidationError as error:
                first = error.errors[0]
                raise XapiError(
                    f"[{first.index}]" if many else "statement", f"cannot be counted: {first.rule}"
                ) from None
    return ids


# --- Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementQuery:
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    ascending: bool = False
    offset: int = 0


def parse_query(params: Any) -> StatementQuery:
    """Read GET /statements parameters; raises `XapiError` naming a bad one."""
    agent = None
    if params.get("agent"):
        try:
            agent = agent_key(_object(json.loads(params["agent"]), "agent"), "agent")
        except ValueError:
            raise XapiError("agent", "must be an Agent as JSON") from None
    limit_text = params.get("limit") or "0"
    if not limit_text.isdigit():
        raise XapiError("limit", "must be a whole number (0: as many as the LRS allows)")
    limit = min(int(limit_text) or MAX_LIMIT, MAX_LIMIT)
    offset_text = params.get("offset") or "0"
    if not offset_text.isdigit():
        raise XapiError("offset", "must be a whole number")
    ascending = (params.get("ascending") or "false").lower()
    if ascending not in ("true", "false"):
        raise XapiError("ascending", "must be true or false")
    return StatementQuery(
        agent=agent,
        verb=_iri(params["verb"], "verb") if params.get("verb") else None,
        activity=_iri(params["activity"], "activity") if params.get("activity") else None,
        registration=_uuid(params["registration"], "registration") if params.get("registration") else None,
        since=_moment(params["since"], "since") if params.get("since") else None,
        until=_moment(params["until"], "until") if params.get("until") else None,
        limit=limit,
        ascending=ascending == "true",
        offset=int(offset_text),
    )


def find(*, site: Site, query: StatementQuery) -> tuple[list[dict[str, Any]], bool]:
    """Statements matching the query (voided ones excluded), and whether more follow."""
    rows = Statement.objects.filter(site=site, voided=False)
    for column in ("agent", "verb", "activity", "registration"):
        if getattr(query, column):
            rows = rows.filter(**{column: getattr(query, column)})
    if query.since:
        rows = rows.filter(stored__gt=query.since)
    if query.until:
        rows = rows.filter(stored__lte=query.until)
    order = ("stored", "id") if query.ascending else ("-stored", "-id")
    page = list(
        rows.order_by(*order).values_list("statement", flat=True)[query.offset : query.offset + query.limit + 1]
    )
    return page[: query.limit], len(page) > query.limit


def get_one(*, site: Site, statement_id: str, voided: bool) -> dict[str, Any]:
    """One statement by id: a voided one only when asked for as `voidedStatementId` (else 404)."""
    row = Statement.objects.filter(site=site, pk=_uuid(statement_id, "statementId"), voided=voided).first()
    if row is None:
        raise XapiError("statementId", "no such statement", status=404)
    return row.statement
