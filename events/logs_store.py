"""The Logs Store format (seed 002): its logs become The Eye's events, and events become its logs.

A Logs Store body is an array of logs `{userId, sessionId, actions: [{time, type, properties}]}`
where `type` is CLICK `{locationX, locationY}`, VIEW `{viewedId}` or NAVIGATE `{pageFrom, pageTo}`.
`accept_logs()` checks the whole body in the format's own terms (one error code for the first
broken rule), turns each action into one event of category `logs_store` named after its type,
and hands them all to `events.ingest.accept()` — the one write path — so the registry's standard
rules guard them too. `find_logs()` reads those events back and groups them into logs again.

Deliberate departures from the seed, which stored times as strings and tested values for truth:
`locationX: 0` is a position, not a missing value; `time` is a real moment with any UTC offset
(or `Z`) and is stored in UTC; a body that is not an array is `NO_LOGS_PROVIDED`, not a crash.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from events import ingest
from events.models import Event, Site
from events.validation import EventValidationError, number, printable, register_event_type, required, text, unstorable

CATEGORY = "logs_store"
TYPES = ("CLICK", "VIEW", "NAVIGATE")
# Fields each type's `properties` must hold, with the code the format answers when one is missing.
PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "CLICK": (("locationX", "MISSING_LOCATION_X_VALUE"), ("locationY", "MISSING_LOCATION_Y_VALUE")),
    "VIEW": (("viewedId", "MISSING_VIEWEDID_VALUE"),),
    "NAVIGATE": (("pageFrom", "MISSING_PAGEFROM_VALUE"), ("pageTo", "MISSING_PAGETO_VALUE")),
}
# The Eye's field names as the Logs Store calls them (to name the field of a broken rule).
FIELD_NAMES = {"user": "userId", "session_id": "sessionId", "timestamp": "time", "data": "properties"}
# Ids of stored actions are derived from their content, so a resent body is stored once.
ID_NAMESPACE = uuid.UUID("0d5f6a7e-3c1b-4f0e-9a8d-2b7c6e5f4a31")

register_event_type(CATEGORY, "click", data={"locationX": required(number()), "locationY": required(number())})
register_event_type(CATEGORY, "view", data={"viewedId": required(text(256))})
register_event_type(CATEGORY, "navigate", data={"pageFrom": required(text(2048)), "pageTo": required(text(2048))})


class LogsStoreError(Exception):
    """A body or query broke a rule of the Logs Store format; `code` is the format's error code."""

    def __init__(self, code: str, *, field: str = "", rule: str = "", status: int = 400) -> None:
        super().__init__(f"{code}: {field} {rule}".strip())
        self.code = code
        self.field = field
        self.rule = rule
        self.status = status

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "code": self.code}
        if self.field:
            body["field"] = printable(self.field)
        if self.rule:
            body["rule"] = self.rule
        return body


def _missing(value: Any) -> bool:
    # Only absence, null and blank text are "missing": 0 and false are values (the seed's bug).
    return value is None or (isinstance(value, str) and not value.strip())


def parse_time(value: Any) -> datetime:
    """An ISO 8601 date-time with a UTC offset (`-06:00`, `+05:30`, `Z`), as an aware UTC moment.

    Raises `ValueError` for anything else, including a time without an offset: the format always
    carried one, and guessing the zone of a bare time would shift actions by hours.
    """
    if not isinstance(value, str):
        raise ValueError("must be a string")
    raw = value.strip()
    if len(raw) < 19 or raw[10] not in "T ":
        raise ValueError("must be a date-time such as 2018-10-18T21:37:28-06:00")
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise ValueError("must carry a UTC offset such as -06:00 or Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the calendar's end in UTC
        raise ValueError("must lie between the year 2000 and now") from None


def _check_action(action: Any, where: str) -> None:
    if not isinstance(action, dict) or not action:
        raise LogsStoreError("EMPTY_ACTION", field=where, rule="must be a non-empty object")
    if _missing(action.get("type")):
        raise LogsStoreError("MISSING_TYPE_VALUE", field=f"{where}.type", rule="is required")
    if action.get("properties") is None:
        raise LogsStoreError("MISSING_PROPERTIES_VALUE", field=f"{where}.properties", rule="is required")
    if _missing(action.get("time")):
        raise LogsStoreError("MISSING_TIME_VALUE", field=f"{where}.time", rule="is required")
    try:
        parse_time(action["time"])
    except (ValueError, OverflowError) as error:
        raise LogsStoreError("INVALID_TIME_FORMAT", field=f"{where}.time", rule=str(error)) from None
    if action["type"] not in TYPES:
        raise LogsStoreError("INVALID_ACTION_TYPE", field=f"{where}.type", rule="must be CLICK, VIEW or NAVIGATE")
    properties = action["properties"]
    if not isinstance(properties, dict):
        raise LogsStoreError("INVALID_VALUE", field=f"{where}.properties", rule="must be a JSON object")
    for name, code in PROPERTIES[action["type"]]:
        if _missing(properties.get(name)):
            raise LogsStoreError(code, field=f"{where}.properties.{name}", rule="is required")


def check_logs(payload: Any) -> list[tuple[str, str]]:
    """Check a whole body against the format's rules; return where each action sits.

    Raises `LogsStoreError` with the code of the first broken rule, in the order logs and
    actions appear. Returns one `(log field path, action field path)` pair per action, in order.
    """
    if not isinstance(payload, list) or not payload:
        raise LogsStoreError("NO_LOGS_PROVIDED", field="body", rule="must be a non-empty array of logs")
    # Values no store can keep (NUL, lone surrogates, NaN, deep nesting) are refused first: the
    # checks below, and turning actions into events, would stumble on them.
    found = unstorable(payload)
    if found:
        where, rule = found[0]
        raise LogsStoreError("INVALID_VALUE", field=where, rule=rule)
    places: list[tuple[str, str]] = []
    for i, log in enumerate(payload):
        where = f"[{i}]"
        if not isinstance(log, dict):
            raise LogsStoreError("INVALID_LOG", field=where, rule="each log must be a JSON object")
        if _missing(log.get("userId")):
            raise LogsStoreError("MISSING_USERID", field=f"{where}.userId", rule="is required")
        if _missing(log.get("sessionId")):
            raise LogsStoreError("MISSING_SESSIONID", field=f"{where}.sessionId", rule="is required")
        actions = log.get("actions")
        if not isinstance(actions, list) or not actions:
            raise LogsStoreError("MISSING_ACTIONS", field=f"{where}.actions", rule="must be a non-empty array")
        for j, action in enumerate(actions):
            _check_action(action, f"{where}.actions[{j}]")
            places.append((where, f"{where}.actions[{j}]"))
    limit = settings.EVENTS_MAX_BATCH
    if len(places) > limit:
        raise LogsStoreError("TOO_MANY_ACTIONS", field="body", rule=f"a request may hold at most {limit} actions")
    return places


def to_events(*, site: Site, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Eye's events for a body that passed `check_logs`, one per action, in order.

    Each event's id is derived from the site and the action's content (plus how often the same
    content already appeared in this body), so a client that resends a body gets no duplicates
    while two identical actions in one body are both kept.
    """
    events: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    for log in payload:
        for action in log["actions"]:
            event = {
                "session_id": log["sessionId"],
                "user": log["userId"],
                "category": CATEGORY,
                "name": action["type"],
                "timestamp": action["time"],
                "data": action["properties"],
            }
            content = json.dumps([site.site_id, event], sort_keys=True, separators=(",", ":"), default=str)
            seen[content] += 1
            event["id"] = str(uuid.uuid5(ID_NAMESPACE, f"{content}#{seen[content]}"))
            events.append(event)
    return events


def accept_logs(*, site: Site, payload: Any, sender: ingest.Sender) -> ingest.Accepted:
    """Validate a Logs Store body and queue its actions as one batch of events; all or nothing.

    Raises `LogsStoreError` (nothing queued, nothing stored) on the first broken rule, whether
    a rule of the format or a standard rule of the event registry (too long an id, a time too
    far in the future, a non-numeric location): those answer `INVALID_VALUE` naming the field.
    """
    places = check_logs(payload)
    events = to_events(site=site, payload=payload)
    try:
        return ingest.accept(site=site, payload=events, sender=sender)
    except EventValidationError as error:
        first = min(error.errors, key=lambda e: -1 if e.index is None else e.index)
        log_place, action_place = places[first.index] if first.index is not None else ("body", "body")
        top, _, rest = first.field.partition(".")
        if top in ("user", "session_id"):
            where = f"{log_place}.{FIELD_NAMES[top]}"
        elif first.field:
            where = f"{action_place}.{FIELD_NAMES.get(top, top)}" + (f".{rest}" if rest else "")
        else:
            where = action_place
        raise LogsStoreError("INVALID_VALUE", field=where, rule=first.rule) from None


@dataclass(frozen=True)
class LogQuery:
    user_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    types: tuple[str, ...] = TYPES
    site: Site | None = None


def parse_types(value: str | None) -> tuple[str, ...]:
    """`CLICK,VIEW` → `("CLICK", "VIEW")`; empty means all three. Raises `LogsStoreError`."""
    if not value or not value.strip():
        return TYPES
    names = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in TYPES]
    if unknown or not names:
        raise LogsStoreError(
            "INVALID_ACTION_TYPE",
            field="types",
            rule=f"must list only CLICK, VIEW or NAVIGATE, not {', '.join(unknown)}",
        )
    return names


def find_logs(*, query: LogQuery) -> list[dict[str, Any]]:
    """Stored Logs Store actions matching `query`, grouped into logs by userId and sessionId.

    Bounds are inclusive. Logs come in the order of their first matching action (then userId,
    sessionId); each holds only its matching actions, oldest first, with times in UTC. Reads
    only.
    """
    events = Event.objects.filter(category=CATEGORY, name__in=[t.lower() for t in query.types])
    if query.site is not None:
        events = events.filter(site=query.site)
    if query.user_id is not None:
        events = events.filter(user=query.user_id)
    if query.start is not None:
        events = events.filter(timestamp__gte=query.start)
    if query.end is not None:
        events = events.filter(timestamp__lte=query.end)
    logs: dict[tuple[str, str], dict[str, Any]] = {}
    rows = events.order_by("timestamp", "id").values_list("user", "session_id", "name", "timestamp", "data")
    for user, session_id, name, moment, data in rows.iterator(chunk_size=2000):
        log = logs.setdefault((user, session_id), {"userId": user, "sessionId": session_id, "actions": []})
        log["actions"].append({"time": moment.astimezone(UTC).isoformat(), "type": name.upper(), "properties": data})
    # Ties (two logs starting at the same second) are broken by userId and sessionId, so the
    # answer never depends on event ids.
    return sorted(logs.values(), key=lambda log: (log["actions"][0]["time"], log["userId"], log["sessionId"]))
