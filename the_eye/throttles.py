"""Rate limits: per client address and per site on the collecting doors, and on failed logins by
HTTP Basic auth. Answered with 429 and `Retry-After` (DRF's `Throttled`).

Counters are fixed one-period windows in the shared cache (Redis): one `INCR` per request, the
same count seen by every web process. A cache that cannot be reached lets requests through —
limits protect the service, and the collector must keep accepting while Redis is down.
Rates come from settings (`THROTTLE_*`, "N/s", "N/min", "N/hour", "N/day"; empty turns one off).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.authentication import BasicScheme
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from the_eye.api_input import BasicAuthentication

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "6000/min" → (6000, 60); empty or "0" → None (no limit). Raises ValueError on nonsense."""
    if not rate or rate.strip() in ("0", "off", "none"):
        return None
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1].lower()]


class Window:
    """One named limit, counted per key in fixed windows."""

    def __init__(self, scope: str, rate: str | None) -> None:
        self.scope = scope
        self.rate = parse_rate(rate)

    def _key(self, key: str) -> tuple[str, float]:
        assert self.rate is not None
        period = self.rate[1]
        now = time.time()
        window = int(now // period)
        return f"throttle:{self.scope}:{key}:{window}", period - now % period

    def over(self, key: str) -> float | None:
        """Seconds to wait if `key` has used up this window, else None. Does not count."""
        if self.rate is None:
            return None
        cache_key, wait = self._key(key)
        try:
            used = cache.get(cache_key) or 0
        except RedisError:
            return None
        return wait if used >= self.rate[0] else None

    def hit(self, key: str) -> float | None:
        """Count one use; seconds to wait if it went over the limit, else None."""
        if self.rate is None:
            return None
        cache_key, wait = self._key(key)
        try:
            cache.add(cache_key, 0, self.rate[1] + 5)
            used = cache.incr(cache_key)
        except (RedisError, ValueError):
            return None
        return wait if used > self.rate[0] else None


def _throttled(wait: float) -> exceptions.Throttled:
    return exceptions.Throttled(wait=max(1, int(wait + 0.999)))


def client_address(request) -> str:
    from events.ingest import request_ip

    return request_ip(request) or "unknown"


class CollectingByAddress(BaseThrottle):
    """Requests to a collecting door from one client address (`THROTTLE_COLLECT_PER_ADDRESS`)."""

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = Window("collect-address", settings.THROTTLE_COLLECT_PER_ADDRESS).hit(
            client_address(request)
        )
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


def check_site(site_id: str) -> None:
    """Count one collecting request for a site (`THROTTLE_COLLECT_PER_SITE`); raise 429 if over."""
    wait = Window("collect-site", settings.THROTTLE_COLLECT_PER_SITE).hit(site_id)
    if wait is not None:
        raise _throttled(wait)


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP Basic auth that refuses (429) an address after `THROTTLE_AUTH_FAILURES` wrong
    passwords in the period, before even checking the next one."""

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic "):
            return None
        window = Window("auth-failures", settings.THROTTLE_AUTH_FAILURES)
        address = client_address(request)
        wait = window.over(address)
        if wait is not None:
            raise _throttled(wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            window.hit(address)
            raise


class ThrottledBasicScheme(BasicScheme):
    """The API schema describes this authenticator as plain HTTP Basic auth."""

    target_class = "the_eye.throttles.ThrottledBasicAuthentication"
