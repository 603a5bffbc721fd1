"""Which browser origins may send events: CORS answers and the per-site origin check.

Two steps, because a preflight names no site. First, django-cors-headers answers CORS for the
collecting URLs (`CORS_URLS_REGEX`) when `allow_listed_origins` — our `check_request_enabled`
receiver — finds the `Origin` on ANY site's `allowed_origins`; an origin no site lists gets no
`Access-Control-Allow-Origin`, so the browser refuses to hand the answer to the page. Second,
once the view knows which site the events are for, `check_origin` refuses (403) an origin that
this particular site does not list. Requests without an `Origin` header (curl, servers, the
middleware) are not browser requests and are not checked. Credentials are never allowed.

The list of all origins is read on every cross-origin request, so each process keeps it for a
few seconds, and forgets it at once when a site is saved or deleted in that process.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from redis.exceptions import RedisError

from events.models import Site
from the_eye.api_errors import ApiError

# Another process (an admin edit served by another worker) is seen after at most this long.
CACHE_SECONDS = 10.0
SHARED_KEY = "cors:listed-origins"

_lock = threading.Lock()
_cached: tuple[float, frozenset[str]] | None = None


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def listed_origins() -> frozenset[str]:
    """Every origin some site allows, normalised; at most `CACHE_SECONDS` old."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        origins = frozenset(
            normalise_origin(origin)
            for origin_list in Site.objects.values_list("allowed_origins", flat=True)
            for origin in (origin_list or [])
            if isinstance(origin, str)
        )
    except DatabaseError:
        # During a database outage the collector keeps accepting (events.sites): answer CORS
        # from the last list this process or the shared cache saw.
        return cached[1] if cached is not None else _shared_copy()
    with _lock:
        _cached = (now, origins)
    try:
        cache.set(SHARED_KEY, origins, 7 * 24 * 3600)
    except RedisError:
        pass
    return origins


def _shared_copy() -> frozenset[str]:
    try:
        return cache.get(SHARED_KEY) or frozenset()
    except RedisError:
        return frozenset()


def forget_listed_origins() -> None:
    global _cached
    with _lock:
        _cached = None


@receiver([post_save, post_delete], sender=Site, dispatch_uid="events.cors.forget")
def _site_changed(sender: Any, **kwargs: Any) -> None:
    forget_listed_origins()


@receiver(check_request_enabled, dispatch_uid="events.cors.allow_listed_origins")
def allow_listed_origins(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """CORS for a collecting URL and an origin that at least one site lists; nothing else.

    django-cors-headers asks every receiver about every request (not only the collecting URLs),
    so the path is checked first: no other page of The Eye ever answers cross-origin reads.
    """
    if not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    origin = request.headers.get("Origin")
    return bool(origin) and normalise_origin(origin or "") in listed_origins()


def _same_origin(request: HttpRequest, origin: str) -> bool:
    # The Eye's own pages may send for any site; the host (with port) is enough to tell, and it
    # holds behind a TLS-terminating proxy where the scheme seen here differs from the browser's.
    host = origin.split("://", 1)[-1].rstrip("/").lower()
    return host == request.get_host().lower()


def check_origin(*, request: HttpRequest, site: Site) -> None:
    """Refuse a browser request sent for `site` from an origin the site does not list.

    Returns quietly when there is no `Origin` header (not a browser), when the page is one of
    The Eye's own, or when the site lists the origin. Otherwise raises `ApiError` 403 whose
    error names the `Origin` header; nothing of the request is stored.
    """
    origin = request.headers.get("Origin")
    if not origin or _same_origin(request, origin) or site.origin_allowed(origin):
        return
    raise ApiError(
        status_code=403,
        code="origin_not_allowed",
        detail=f"Site {site.site_id} does not accept events sent from {origin}; add it to the site's allowed origins.",
        errors=[{"field": "Origin", "rule": "must be one of the site's allowed origins"}],
    )
