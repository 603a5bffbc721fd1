"""Finding a request's site, even while the database is down.

The collecting doors need the site (its id, its rules) before they can queue a batch. Each
lookup goes to the database; every site it finds is also kept in the shared cache (Redis), and
when the database cannot be reached the cached copy answers instead, so events keep being
accepted and queued through a database outage. Only what the database itself confirmed is kept:
a server key is cached (by its hash) only after it matched a site, an unknown id never is. With
neither store reachable the lookup raises `SiteUnavailable`, which the doors answer with 503.

Copies are at most `REFRESH_SECONDS` older than the database when an outage starts (each process
rewrites an entry at most that often), are deleted when a site is saved or deleted, and expire
after `KEEP_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from events.models import Site, hash_server_key

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600
REFRESH_SECONDS = 60.0
DEFAULT_KEY = "site:default"

_written: dict[str, float] = {}
_lock = threading.Lock()


class SiteUnavailable(Exception):
    """Neither the database nor the cache could say which site a request is for."""


def by_public_id(site_id: str) -> Site | None:
    return _lookup(f"site:public:{site_id}", lambda: Site.objects.by_public_id(site_id))


def by_server_key(key: str) -> Site | None:
    return _lookup(f"site:key:{hash_server_key(key)}", lambda: Site.objects.by_server_key(key))


def default() -> Site | None:
    return _lookup(DEFAULT_KEY, Site.objects.default)


def _lookup(key: str, query: Any) -> Site | None:
    try:
        site = query()
    except DatabaseError as error:
        cached = _recall(key)
        if cached is None:
            raise SiteUnavailable(str(error)) from error
        log.warning("database unreachable (%s); site %s taken from the cache", error, cached.site_id)
        return cached
    if site is not None:
        _remember(key, site)
    return site


def _recall(key: str) -> Site | None:
    try:
        return cache.get(key)
    except RedisError as error:
        log.warning("cache unreachable too (%s)", error)
        return None


def _remember(key: str, site: Site) -> None:
    now = time.monotonic()
    if now - _written.get(key, -REFRESH_SECONDS) < REFRESH_SECONDS:
        return
    try:
        cache.set(key, site, KEEP_SECONDS)
    except RedisError:
        return  # the database answered; a cache that is down only matters in an outage
    with _lock:
        _written[key] = now


@receiver([post_save, post_delete], sender=Site, dispatch_uid="events.sites.forget")
def _site_changed(sender: Any, instance: Site, **kwargs: Any) -> None:
    keys = [DEFAULT_KEY, f"site:public:{instance.site_id}"]
    if instance.server_key_hash:
        keys.append(f"site:key:{instance.server_key_hash}")
    with _lock:
        _written.clear()
    try:
        cache.delete_many(keys)
    except RedisError as error:
        log.warning("could not forget cached site %s (%s)", instance.site_id, error)
