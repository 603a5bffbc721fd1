"""What every HTTP door of the collector does before handing events to `events.ingest`.

Reading the body (size, content type, JSON), finding the site and the sender, and turning the
write path's errors into 4xx answers: shared by The Eye's format, the Logs Store format and
anything added later, so each door's view stays a few lines.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.request import RawPostDataException

from events import sites
from events.models import Site
from events.validation import DEPTH_RULE, text_rule
from the_eye import throttles
from the_eye.api_errors import RETRY_AFTER_SECONDS, ApiError

JSON_TYPES = ("application/json", "text/plain")  # text/plain: sendBeacon without a preflight


def read_json_body(request: HttpRequest) -> Any:
    """Return the decoded JSON body or raise `ApiError` (413, 415 or 400)."""
    limit = settings.EVENTS_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdecimal() and int(declared) > limit:
        raise _too_large(limit)
    content_type = (request.content_type or "").lower()
    if content_type not in JSON_TYPES:
        raise ApiError(
            status_code=415,
            code="unsupported_media_type",
            detail="Send the events as JSON.",
            errors=[{"field": "Content-Type", "rule": "must be application/json (or text/plain holding JSON)"}],
        )
    try:
        body = request.body
    except RawPostDataException:  # the body was already read as a stream
        raise ApiError(status_code=400, code="unreadable_body", detail="The body could not be read.") from None
    if len(body) > limit:
        raise _too_large(limit)
    if not body.strip():
        raise ApiError(
            status_code=400,
            code="empty_body",
            detail="The body is empty.",
            errors=[{"field": "body", "rule": "must be a JSON object or array"}],
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(
            status_code=400,
            code="malformed_json",
            detail=f"The body is not valid JSON: {error}",
            errors=[{"field": "body", "rule": "must be valid JSON"}],
        ) from None
    except RecursionError:  # thousands of nested brackets exhaust the decoder's stack
        raise ApiError(
            status_code=400,
            code="too_deep",
            detail="The body nests too deeply.",
            errors=[{"field": "body", "rule": DEPTH_RULE}],
        ) from None


def _too_large(limit: int) -> ApiError:
    return ApiError(
        status_code=413,
        code="body_too_large",
        detail=f"The body is larger than {limit} bytes; send fewer events per request.",
        errors=[{"field": "body", "rule": f"must be at most {limit} bytes"}],
        extra={"limit": limit},
    )


def server_key(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.META.get("HTTP_X_SERVER_KEY", "").strip()


def find_site(request: HttpRequest, payload: Any, *, count: bool = True) -> tuple[Site, bool]:
    """The site a request is for, and whether the sender proved the site's server key.

    Order: a server key; the `X-Site-Id` header; a `site_id` field of the (first) event; the
    site flagged default. Raises `ApiError` 401 for a wrong key, 400 when no site is found, 503
    when neither the database nor the cache of sites can answer (`events.sites`), 429 when the
    site has used up its rate (`THROTTLE_COLLECT_PER_SITE`; `count=False` only looks).
    """
    try:
        site, trusted = _find_site(request, payload)
    except sites.SiteUnavailable:
        raise unavailable() from None
    if count:
        throttles.check_site(site.site_id)
    return site, trusted


def unavailable() -> ApiError:
    """503 for a request that neither store can take now; the client should retry later."""
    return ApiError(
        status_code=503,
        code="unavailable",
        detail="The Eye cannot store or queue events right now; nothing was kept. Retry later.",
        extra={"retry_after": RETRY_AFTER_SECONDS},
    )


def _find_site(request: HttpRequest, payload: Any) -> tuple[Site, bool]:
    key = server_key(request)
    if key:
        site = sites.by_server_key(key)
        if site is None:
            raise ApiError(
                status_code=401,
                code="bad_server_key",
                detail="The server key is not valid.",
                errors=[{"field": "Authorization", "rule": "must hold a current server key of a site"}],
            )
        return site, True
    public_id = request.META.get("HTTP_X_SITE_ID", "").strip()
    first = payload[0] if isinstance(payload, list) and payload else payload
    if not public_id and isinstance(first, dict) and isinstance(first.get("site_id"), str):
        public_id = first["site_id"].strip()
    if public_id and text_rule(public_id):
        raise ApiError(
            status_code=400,
            code="unknown_site",
            detail="The site id is not valid text.",
            errors=[{"field": "site_id", "rule": text_rule(public_id)}],
        )
    if public_id:
        site = sites.by_public_id(public_id)
        if site is None:
            raise ApiError(
                status_code=400,
                code="unknown_site",
                detail=f"No site has the id {public_id!r}.",
                errors=[{"field": "site_id", "rule": "must be the public id of a site"}],
            )
        return site, False
    site = sites.default()
    if site is None:
        raise ApiError(
            status_code=400,
            code="no_site",
            detail="Name the site: no default site is set.",
            errors=[{"field": "site_id", "rule": "is required (X-Site-Id header or site_id field)"}],
        )
    return site, False


def visitor_opted_out(request: HttpRequest, payload: Any) -> bool:
    """True when a browser says Do Not Track or Global Privacy Control and the site respects it.

    The tracker already sends nothing then (its `data-respect-dnt`); this keeps the promise
    even for a tag that forgot the attribute. Only browsers' requests carry these headers.
    """
    if request.META.get("HTTP_DNT") != "1" and request.META.get("HTTP_SEC_GPC") != "1":
        return False
    if not request.META.get("HTTP_ORIGIN"):
        return False
    try:
        site, _ = find_site(request, payload, count=False)
    except ApiError:
        return False  # let the normal path answer the error
    return site.respect_dnt
