"""The rules every incoming event must meet, in one place.

`validate_batch` checks a whole request and either returns clean, JSON-ready events or raises
one `EventValidationError` listing *every* bad field of *every* bad event (index, field, rule), so
a client can fix its batch in one round trip. Nothing here touches the database or the network.

Event types are a registry: `register_event_type()` adds one (category, name) with the rules for
its `data`; adding a type never needs a new view. Top-level fields are a registry too
(`register_field()`), so collectors (tracker, middleware) can add their own without editing the
validator.

Plain functions are used rather than DRF serializers: at ~300 µs per event a serializer would be
the slowest step of ingest, while these checks cost a few microseconds (see bench/ingest.py).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


class Rule(ValueError):
    """A value broke a rule; the message is the rule, phrased for the client."""


@dataclass(frozen=True)
class FieldError:
    index: int | None
    field: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": printable(self.field), "rule": self.rule}


class EventValidationError(Exception):
    """A request broke at least one rule; `errors` lists each broken rule."""

    def __init__(self, errors: list[FieldError], *, code: str = "invalid_events") -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors
        self.code = code

    def as_body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "detail": "Nothing was stored: fix the listed fields and send the request again.",
            "errors": [e.as_dict() for e in self.errors],
        }


Validator = Callable[[Any], Any]


# --- What both stores can keep ----------------------------------------------------------------
# PostgreSQL refuses NUL in text and JSON, lone UTF-16 surrogates (not UTF-8), NaN and Infinity in
# JSON; SQLite keeps them, so without these rules a batch stored fine in development and failed in
# production. Deeper nesting than this is no real event and costs recursion in every later step.
MAX_DEPTH = 32
# Events: from the year 2000 to a few minutes ahead (EVENTS_MAX_FUTURE_SECONDS). Query bounds: a
# wider window, still far from the ends of Python's and the databases' calendars (years 1–9999),
# so a bound plus or minus a day or a period never overflows.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
QUERY_DATES = (date(1900, 1, 1), date(8999, 12, 31))

NUL_RULE = "must not contain the NUL character (\\u0000)"
SURROGATE_RULE = "must be valid Unicode text (no lone surrogate such as \\ud800)"
FINITE_RULE = "must be a finite number (not NaN or Infinity)"
DEPTH_RULE = f"must nest objects and arrays at most {MAX_DEPTH} levels deep"


def text_rule(value: str) -> str | None:
    """The rule a string breaks for the stores, or None when both can keep it."""
    if "\x00" in value:
        return NUL_RULE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_RULE
    return None


def printable(value: str) -> str:
    """`value` safe to echo in an error body: NUL and lone surrogates written as escapes."""
    if text_rule(value) is None:
        return value
    return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def unstorable(value: Any, *, where: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Every place in `value` (keys included) that a store cannot keep, as (field path, rule).

    Walks iteratively, so any depth is safe to inspect; below `MAX_DEPTH` it stops and reports
    the depth once. Paths read `data.a.b`, `[0].actions[1].time`.
    """
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(value, where, depth)]
    while stack:
        item, place, level = stack.pop()
        if isinstance(item, str):
            rule = text_rule(item)
            if rule:
                found.append((place, rule))
        elif isinstance(item, float):
            if not math.isfinite(item):
                found.append((place, FINITE_RULE))
        elif isinstance(item, dict | list):
            if level >= MAX_DEPTH:
                found.append((place, DEPTH_RULE))
                continue
            if isinstance(item, list):
                stack.extend((v, f"{place}[{i}]", level + 1) for i, v in reversed(list(enumerate(item))))
                continue
            for key, v in reversed(list(item.items())):
                inner = f"{place}.{key}" if place else str(key)
                if isinstance(key, str) and text_rule(key):
                    found.append((inner, f"key {text_rule(key)}"))
                stack.append((v, inner, level + 1))
    return found


# --- Value rules -----------------------------------------------------------------------------


def text(max_length: int, *, allow_empty: bool = False) -> Validator:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Rule("must be a string")
        value = value.strip()
        if not value and not allow_empty:
            raise Rule("must not be empty")
        if len(value) > max_length:
            raise Rule(f"must be at most {max_length} characters")
        return value

    return check


def json_object(max_bytes: int | None = None) -> Validator:
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Rule("must be a JSON object")
        limit = max_bytes or settings.EVENTS_MAX_DATA_BYTES
        if len(json.dumps(value, separators=(",", ":"))) > limit:
            raise Rule(f"must be at most {limit} bytes as JSON")
        return value

    return check


def number(*, minimum: float | None = None, maximum: float | None = None) -> Validator:
    def check(value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Rule("must be a number")
        if minimum is not None and value < minimum:
            raise Rule(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise Rule(f"must be at most {maximum}")
        return value

    return check


def boolean(value: Any) -> bool:
    # A real JSON boolean only: the seed treated the string "false" as true.
    if not isinstance(value, bool):
        raise Rule("must be true or false")
    return value


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def host(value: Any) -> str:
    """A host name, with or without scheme and port: `www.example.org`, `https://x.org:8000`."""
    if not isinstance(value, str) or not value.strip():
        raise Rule("must be a host name such as www.example.org")
    raw = value.strip().lower()
    parts = urlsplit(raw if "//" in raw else "//" + raw)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise Rule("must be a host name such as www.example.org, without a path")
    try:
        hostname, port = parts.hostname or "", parts.port
    except ValueError:
        raise Rule("must have a numeric port") from None
    if not hostname or len(hostname) > 253:
        raise Rule("must be a host name such as www.example.org")
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        try:
            ascii_name = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise Rule("must be a host name such as www.example.org") from None
        if not all(_HOST_LABEL.match(label) for label in ascii_name.rstrip(".").split(".")):
            raise Rule("must be a host name such as www.example.org") from None
    return f"{hostname}:{port}" if port else hostname


def path(value: Any) -> str:
    if not isinstance(value, str):
        raise Rule("must be a string starting with /")
    if not value.startswith("/"):
        raise Rule("must start with /")
    if len(value) > 2048:
        raise Rule("must be at most 2048 characters")
    return value


def url(value: Any) -> str:
    if not isinstance(value, str):
        raise Rule("must be a string")
    value = value.strip()
    if value == "":
        return value
    if len(value) > 4096:
        raise Rule("must be at most 4096 characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Rule("must be an absolute http(s) URL")
    return value


def event_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise Rule("must be a UUID") from None


def timestamp(value: Any) -> str:
    """ISO 8601 with or without offset, or `%Y-%m-%d %H:%M:%S.%f`; naive means UTC."""
    if not isinstance(value, str):
        raise Rule("must be an ISO 8601 date-time string")
    raw = value.strip()
    if len(raw) < 16 or raw[10] not in "T ":
        raise Rule("must be an ISO 8601 date-time such as 2024-02-01T09:15:27Z")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Rule("must be an ISO 8601 date-time such as 2024-02-01T09:15:27Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the calendar's end in UTC
        raise Rule("must lie between the year 2000 and now") from None
    limit = datetime.now(UTC) + timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS)
    if moment > limit:
        raise Rule(f"must not be more than {settings.EVENTS_MAX_FUTURE_SECONDS} seconds in the future")
    if moment < EARLIEST_EVENT:
        raise Rule("must not be before the year 2000")
    return moment.isoformat()


_SCREEN = re.compile(r"^\d{1,5}x\d{1,5}$")


def screen(value: Any) -> str:
    if not isinstance(value, str) or not _SCREEN.match(value):
        raise Rule("must be WIDTHxHEIGHT in CSS pixels, such as 1920x1080")
    return value


def ip_address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise Rule("must be an IPv4 or IPv6 address") from None


def geo(value: Any) -> dict[str, float]:
    """A position the visitor agreed to share: `{latitude, longitude[, accuracy]}`."""
    if not isinstance(value, dict):
        raise Rule("must be an object {latitude, longitude, accuracy}")
    try:
        clean = {
            "latitude": number(minimum=-90, maximum=90)(value.get("latitude")),
            "longitude": number(minimum=-180, maximum=180)(value.get("longitude")),
        }
        if value.get("accuracy") is not None:
            clean["accuracy"] = number(minimum=0)(value["accuracy"])
    except Rule as rule:
        raise Rule(f"latitude and longitude {rule} (latitude within ±90, longitude within ±180)") from None
    return clean


# --- Registries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    check: Validator
    required: bool = False


@dataclass(frozen=True)
class EventType:
    category: str
    name: str
    data: Mapping[str, FieldSpec] = field(default_factory=dict)
    # Fields of `data` copied onto the event's own columns (host and path are queried often).
    columns: tuple[str, ...] = ()


TOP_LEVEL: dict[str, FieldSpec] = {}
EVENT_TYPES: dict[tuple[str, str], EventType] = {}
# Spellings from older clients that mean a registered name.
ALIASES: dict[str, str] = {"pageview": "page_view"}


def register_field(name: str, check: Validator, *, required: bool = False) -> None:
    TOP_LEVEL[name] = FieldSpec(check, required)


def register_event_type(
    category: str, name: str, *, data: Mapping[str, FieldSpec], columns: tuple[str, ...] = ()
) -> EventType:
    event_type = EventType(category, name, dict(data), columns)
    EVENT_TYPES[(category, name)] = event_type
    return event_type


def normalise_key(value: str) -> str:
    """`"page interaction"` → `page_interaction`; the seed's spaced spelling is accepted."""
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    return ALIASES.get(key, key)


def canonical_kind(category: str, name: str) -> tuple[str, str]:
    """The stored spelling of an event's category and name.

    Built-in types are stored under their registered spelling, whichever of the seeds' spellings
    the client used ("page interaction" / "pageview" → page_interaction / page_view); a known
    category is spelt its registered way too. Anything else — custom names above all — is kept
    exactly as sent: `Signup-Pro` stays `Signup-Pro`.
    """
    key = (normalise_key(category), normalise_key(name))
    if key in EVENT_TYPES:
        return key
    known_categories = {registered for registered, _ in EVENT_TYPES}
    return (key[0] if key[0] in known_categories else category, name)


def required(check: Validator) -> FieldSpec:
    return FieldSpec(check, required=True)


def optional(check: Validator) -> FieldSpec:
    return FieldSpec(check, required=False)


register_field("session_id", text(128), required=True)
register_field("category", text(64), required=True)
register_field("name", text(64), required=True)
register_field("timestamp", timestamp, required=True)
register_field("data", json_object(), required=True)
register_field("id", event_id)
register_field("site_id", text(32))
register_field("user", text(150, allow_empty=True))
register_field("url", url)
register_field("referrer", text(4096, allow_empty=True))
register_field("title", text(512, allow_empty=True))
# Sent by the JS tracker.
register_field("visitor_id", text(128))
register_field("screen", screen)
register_field("language", text(35, allow_empty=True))
register_field("geo", geo)
# Only senders holding the site's server key (the middleware) may state these per event.
register_field("ip", ip_address)
register_field("user_agent", text(1024, allow_empty=True))

TRUSTED_ONLY = ("ip", "user_agent")

register_event_type(
    "page_interaction",
    "page_view",
    data={"host": required(host), "path": required(path)},
    columns=("host", "path"),
)
register_event_type(
    "page_interaction",
    "cta_click",
    data={"host": required(host), "path": required(path), "element": required(text(256))},
    columns=("host", "path"),
)
# The JS tracker's own kinds of page event.
register_event_type(
    "page_interaction",
    "exit_link",
    data={"host": required(host), "path": required(path), "href": required(url)},
    columns=("host", "path"),
)
register_event_type(
    "page_interaction",
    "engagement",
    data={
        "host": required(host),
        "path": required(path),
        "engaged_seconds": required(number(minimum=0, maximum=86400)),
    },
    columns=("host", "path"),
)
# One request a host site served, sent by the Django middleware (the_eye_client.middleware).
register_event_type(
    "server",
    "request",
    data={"host": required(host), "path": required(path), "method": required(text(16))},
    columns=("host", "path"),
)
register_event_type(
    "form_interaction",
    "submit",
    data={"host": required(host), "path": required(path), "form": required(json_object())},
    columns=("host", "path"),
)


# --- Query parameters (the read side) --------------------------------------------------------

_UNENCODED_OFFSET = re.compile(r"(.+:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)")


def _in_query_window(day: date) -> None:
    first, last = QUERY_DATES
    if not first <= day <= last:
        raise Rule(f"must lie between {first.isoformat()} and {last.isoformat()}")


def query_date(value: str) -> date:
    """A day `YYYY-MM-DD` within `QUERY_DATES`; raises `Rule`."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise Rule("must be a date like 2024-02-29") from None
    _in_query_window(day)
    return day


def query_moment(value: str) -> datetime | date:
    """A date (`2024-02-01`) or an ISO 8601 date-time from a query string; raises `Rule`.

    A date-time comes back in UTC (naive means UTC), so an offset PostgreSQL would refuse, such
    as `+18:21`, never reaches it. A `+` of an offset arrives as a space when the client did not
    percent-encode it, so a space after the time is read as `+`. Both lie within `QUERY_DATES`.
    """
    raw = value.strip()
    if len(raw) == 10:
        return query_date(raw)
    unencoded = _UNENCODED_OFFSET.fullmatch(raw)
    if unencoded:
        raw = f"{unencoded[1]}+{unencoded[2]}"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Rule("must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    _in_query_window(moment.date())
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first moment of `day` and of the day after, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


# --- Validation ------------------------------------------------------------------------------


def _check_data(event_type: EventType, data: dict[str, Any], index: int) -> tuple[dict, list]:
    errors: list[FieldError] = []
    clean = dict(data)
    for name, spec in event_type.data.items():
        if name not in data or data[name] is None:
            if spec.required:
                errors.append(FieldError(index, f"data.{name}", "is required"))
            continue
        try:
            clean[name] = spec.check(data[name])
        except Rule as rule:
            errors.append(FieldError(index, f"data.{name}", str(rule)))
    return clean, errors


def validate_event(raw: Any, *, index: int, allow_custom: bool) -> tuple[dict[str, Any], list[FieldError]]:
    """Check one event; return its clean form and the rules it broke (empty when valid)."""
    if not isinstance(raw, dict):
        return {}, [FieldError(index, "", "each event must be a JSON object")]
    # Values no store can keep are reported alone: the rules below would stumble on them.
    errors = [FieldError(index, place, rule) for place, rule in unstorable(raw)]
    if errors:
        return {}, errors
    clean: dict[str, Any] = {}
    for name in raw:
        if name not in TOP_LEVEL:
            errors.append(FieldError(index, name, "is not a known field"))
    for name, spec in TOP_LEVEL.items():
        value = raw.get(name)
        if value is None:
            if spec.required:
                errors.append(FieldError(index, name, "is required"))
            continue
        try:
            clean[name] = spec.check(value)
        except Rule as rule:
            errors.append(FieldError(index, name, str(rule)))
    if "category" in clean and "name" in clean:
        clean["category"], clean["name"] = canonical_kind(clean["category"], clean["name"])
        event_type = EVENT_TYPES.get((clean["category"], clean["name"]))
        if event_type is None and not allow_custom:
            errors.append(FieldError(index, "name", f"unknown event type {clean['category']}/{clean['name']}"))
        elif event_type is not None and "data" in clean:
            clean["data"], data_errors = _check_data(event_type, clean["data"], index)
            errors.extend(data_errors)
            for column in event_type.columns:
                if column in clean["data"]:
                    clean[column] = clean["data"][column]
    if "url" in clean and clean["url"] and not clean.get("host"):
        parts = urlsplit(clean["url"])
        clean["host"] = parts.netloc.lower()
        clean["path"] = parts.path or "/"
    return clean, errors


def validate_batch(payload: Any, *, allow_custom: bool, max_batch: int | None = None) -> list[dict[str, Any]]:
    """Validate one event or a list of events; all or nothing.

    Returns the clean events, each with an `id` (the client's, or a new UUID4). Raises
    `EventValidationError` listing every broken rule if any event is bad.
    """
    limit = max_batch or settings.EVENTS_MAX_BATCH
    events = payload if isinstance(payload, list) else [payload]
    if not events:
        raise EventValidationError([FieldError(None, "", "the body must hold at least one event")])
    if len(events) > limit:
        raise EventValidationError([FieldError(None, "", f"a request may hold at most {limit} events")])
    clean_events: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(events):
        clean, event_errors = validate_event(raw, index=index, allow_custom=allow_custom)
        errors.extend(event_errors)
        if event_errors:
            continue
        clean.setdefault("id", str(uuid.uuid4()))
        if clean["id"] in seen_ids:
            errors.append(FieldError(index, "id", "must be unique within the request"))
        seen_ids.add(clean["id"])
        clean_events.append(clean)
    if errors:
        raise EventValidationError(errors)
    return clean_events
