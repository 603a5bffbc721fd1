"""Plausible's Events API: a Plausible tracker's request becomes The Eye's events.

Plausible's trackers post one event per request to `/api/event`, as JSON in a `text/plain` body:
`{n, u, d, r, p, $, i, h}` (its script's short keys) or `{name, url, domain, referrer, props,
revenue, interactive}` (its documented long ones). `domain` picks the site by the domains a site
lists (`Site.domains`); a comma-separated list sends one copy to each site. `translate()` turns
the body into one The Eye event per site, and the view hands each to `events.ingest.accept()`, the
one write path, so the registry's rules, the queue, enrichment and rollups apply unchanged.

Mapping: `pageview` → `page_interaction/page_view`; `Outbound Link: Click` → `exit_link` and
`File Download` → `download` (both with `href` from `props.url`); `engagement` (the newer
script's time on page, `e` in ms) → `engagement`; every other name → a custom event whose `data`
is its props. Revenue and `interactive: false` are kept in `data`. Keys Plausible's scripts add
for their own server (`v`, `w`, `sd` outside engagement) and unknown keys are ignored, as
Plausible ignores them.

Who: Plausible sends no visitor or session id; like Plausible, the visitor is a salted daily hash
of site, IP and User-Agent (`events.visitors`), and that hash is also the session id, which the
worker splits after 30 minutes of inactivity. Ids: Plausible sends no event id and its trackers
never resend; the id is derived from the site, the visitor, the body and the second it arrived,
so a request repeated within the same second (a proxy's retry, a double submit) is stored once,
and a queued job that runs twice stores nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from events import ingest, visitors
from events.models import Site
from events.validation import (
    EventValidationError,
    Rule,
    host,
    register_event_type,
    required,
    url,
    validate_batch,
)
from events.validation import path as url_path

# Plausible's field → (short key of its script, long key of its API docs).
KEYS = {
    "name": ("n", "name"),
    "url": ("u", "url"),
    "domain": ("d", "domain"),
    "referrer": ("r", "referrer"),
    "props": ("p", "props"),
    "revenue": ("$", "revenue"),
    "interactive": ("i", "interactive"),
    "hash_mode": ("h", "hashMode"),
    "engagement_ms": ("e", "engagement_time"),
    "scroll_depth": ("sd", "scroll_depth"),
}
MAX_PROPS = 30
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
PAGEVIEW = "pageview"
OUTBOUND_LINK = "Outbound Link: Click"
FILE_DOWNLOAD = "File Download"
ENGAGEMENT = "engagement"
ID_NAMESPACE = uuid.UUID("5b0e7c1d-8f2a-4c3e-9d6b-1a7f0e2c4d58")
# Our field names as Plausible calls them, to name the field of a broken rule.
FIELD_NAMES = {
    "name": "name",
    "url": "url",
    "referrer": "referrer",
    "data.host": "url",
    "data.path": "url",
    "data.href": "props.url",
    "data.engaged_seconds": "e",
    "data": "props",
}

# A file a visitor downloaded from a page (Plausible's "File Download"); `href` is the file.
register_event_type(
    "page_interaction",
    "download",
    data={"host": required(host), "path": required(url_path), "href": required(url)},
    columns=("host", "path"),
)


class PlausibleError(Exception):
    """A body broke a rule of Plausible's Events API before it became events."""

    def __init__(self, field: str, rule: str, *, code: str = "invalid_event") -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule
        self.code = code


@dataclass(frozen=True)
class Translated:
    site: Site
    event: dict[str, Any]


def _get(body: dict[str, Any], field: str) -> Any:
    short, long = KEYS[field]
    return body[short] if body.get(short) is not None else body.get(long)


def sites_for(domain: Any) -> list[Site]:
    """The sites a `domain` value names (comma-separated for several); each must be listed.

    Raises `PlausibleError` naming `domain` when it is missing or names a domain no site lists.
    """
    if not isinstance(domain, str) or not domain.strip():
        raise PlausibleError("domain", "is required: a domain one of The Eye's sites lists")
    names = [d.strip().lower() for d in domain.split(",") if d.strip()]
    listed = {d: pk for pk, domains in Site.objects.values_list("pk", "domains") for d in (domains or [])}
    unknown = [d for d in names if d not in listed]
    if unknown:
        raise PlausibleError(
            "domain", f"must be a domain a site lists (add it to the site's domains): {', '.join(unknown)}"
        )
    pks = list(dict.fromkeys(listed[d] for d in names))
    by_pk = Site.objects.in_bulk(pks)
    return [by_pk[pk] for pk in pks]


def _props(value: Any) -> dict[str, Any]:
    """Custom properties: an object (or, from the older library, a JSON string of one) of scalars."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PlausibleError("props", "must be a JSON object of custom properties") from None
    if not isinstance(value, dict):
        raise PlausibleError("props", "must be a JSON object of custom properties")
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue  # Plausible drops empty properties
        if not key or len(key) > MAX_PROP_KEY:
            raise PlausibleError("props", f"keys must be 1 to {MAX_PROP_KEY} characters")
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise PlausibleError(f"props.{key}", "must be a string, number or boolean")
        if isinstance(item, str) and len(item) > MAX_PROP_VALUE:
            raise PlausibleError(f"props.{key}", f"must be at most {MAX_PROP_VALUE} characters")
        clean[key] = item
    if len(clean) > MAX_PROPS:
        raise PlausibleError("props", f"may hold at most {MAX_PROPS} properties")
    return clean


def _revenue(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PlausibleError("revenue", "must be an object {amount, currency}")
    try:
        amount = Decimal(str(value.get("amount")))
    except InvalidOperation:
        raise PlausibleError("revenue.amount", "must be a number") from None
    if not amount.is_finite():
        raise PlausibleError("revenue.amount", "must be a finite number")
    currency = value.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise PlausibleError("revenue.currency", "must be an ISO 4217 code such as EUR")
    return {"amount": str(amount), "currency": currency.upper()}


def _page(raw_url: Any, *, hash_mode: bool) -> tuple[str, str, str]:
    """(url, host, path) of the page; in hash mode the fragment is part of the path."""
    if raw_url is None:
        raise PlausibleError("url", "is required: the page's absolute URL")
    try:
        clean = url(raw_url)
    except Rule as rule:
        raise PlausibleError("url", str(rule)) from None
    if not clean:
        raise PlausibleError("url", "is required: the page's absolute URL")
    parts = urlsplit(clean)
    path = parts.path or "/"
    if hash_mode and parts.fragment:
        path += "#" + parts.fragment
    return clean, parts.netloc.lower(), path


def _kind_and_data(name: str, body: dict[str, Any], props: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    if name == PAGEVIEW:
        return "page_interaction", "page_view", dict(props)
    if name in (OUTBOUND_LINK, FILE_DOWNLOAD):
        kind = "exit_link" if name == OUTBOUND_LINK else "download"
        rest = {k: v for k, v in props.items() if k != "url"}
        return "page_interaction", kind, {**rest, "href": props.get("url")}
    if name == ENGAGEMENT:
        milliseconds = _get(body, "engagement_ms")
        if isinstance(milliseconds, bool) or not isinstance(milliseconds, (int, float)):
            raise PlausibleError("e", "must be the engagement time in milliseconds")
        data: dict[str, Any] = {"engaged_seconds": round(milliseconds / 1000, 1)}
        scroll = _get(body, "scroll_depth")
        if isinstance(scroll, (int, float)) and not isinstance(scroll, bool):
            data["scroll_depth"] = scroll
        return "page_interaction", "engagement", data
    return "custom", name, dict(props)


def translate(*, body: Any, ip: str | None, user_agent: str, received_at: datetime | None = None) -> list[Translated]:
    """One The Eye event per site the body's `domain` names, ready for `ingest.accept()`.

    Raises `PlausibleError` (naming Plausible's field) for a body that is not an object, a
    missing or unknown domain, a missing name or URL, or malformed props or revenue. Reads
    the sites and today's salt; writes nothing but that salt (made on first use of a day).
    """
    if not isinstance(body, dict):
        raise PlausibleError("body", "must be a JSON object (one event)")
    name = _get(body, "name")
    if not isinstance(name, str) or not name.strip():
        raise PlausibleError("name", "is required: pageview or an event name")
    name = name.strip()
    sites = sites_for(_get(body, "domain"))
    hash_mode = bool(_get(body, "hash_mode"))
    page_url, page_host, page_path = _page(_get(body, "url"), hash_mode=hash_mode)
    props = _props(_get(body, "props"))
    category, kind, data = _kind_and_data(name, body, props)
    revenue = _revenue(_get(body, "revenue"))
    if revenue:
        data["revenue"] = revenue
    interactive = _get(body, "interactive")
    if interactive is not None and not isinstance(interactive, bool):
        raise PlausibleError("interactive", "must be true or false")
    if interactive is False:
        data["interactive"] = False
    data.update(host=page_host, path=page_path)
    referrer = _get(body, "referrer")
    if referrer is not None and not isinstance(referrer, str):
        raise PlausibleError("referrer", "must be a string")
    moment = (received_at or datetime.now(UTC)).astimezone(UTC)
    salt = visitors.salt_for(day=moment.date())
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
    translated = []
    for site in sites:
        visitor = visitors.hashed_visitor_id(salt=salt, site_id=site.pk, ip=ip or "", user_agent=user_agent)
        second = moment.replace(microsecond=0).isoformat()
        event = {
            "id": str(uuid.uuid5(ID_NAMESPACE, f"{site.pk}\x1f{visitor}\x1f{second}\x1f{digest}")),
            "site_id": site.site_id,
            "session_id": f"p-{visitor}",
            "category": category,
            "name": kind,
            "timestamp": moment.isoformat(),
            "url": page_url,
            "referrer": referrer or "",
            "data": data,
        }
        translated.append(Translated(site=site, event=event))
    return translated


def plausible_fields(error: EventValidationError) -> list[dict[str, str]]:
    """The write path's broken rules, each naming the field as Plausible's API calls it."""
    named = []
    for item in error.errors:
        field = FIELD_NAMES.get(item.field)
        if field is None:
            field = "props." + item.field[5:] if item.field.startswith("data.") else item.field
        named.append({"field": field, "rule": item.rule})
    return named


def accept(*, translated: list[Translated], sender: ingest.Sender) -> list[ingest.Accepted]:
    """Hand each site's event to the one write path; all sites or none.

    Every site's copy is validated (each site decides whether it takes custom events) before any
    is queued, so a body refused for one site is stored for none. Raises `EventValidationError`.
    """
    errors = []
    for item in translated:
        try:
            validate_batch([item.event], allow_custom=item.site.allow_custom_events)
        except EventValidationError as error:
            errors += error.errors
    if errors:
        raise EventValidationError(errors)
    return [ingest.accept(site=item.site, payload=[item.event], sender=sender) for item in translated]
