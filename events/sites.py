"""Sites: the one place that creates them and moves the default flag, and finds a request's site
even while the database is down.

**Creating.** The create_site command, the admin, the demo and the tests all call `save_site` /
`create_site`, so "at most one default site" is kept the same way everywhere: the old default is
unset in the same transaction that sets the new one (the `one_default_site` constraint would refuse
the save otherwise).

**Finding.** The collecting doors need the site (its id, its rules) before they can queue a batch.
Each lookup goes to the database; every site it finds is also kept in the shared cache (Redis), and
when the database cannot be reached the cached copy answers instead, so events keep being accepted
and queued through a database outage. Only what the database itself confirmed is kept: a server key
is cached (by its hash) only after it matched a site, an unknown id never is. With neither store
reachable the lookup raises `SiteUnavailable`, which the doors answer with 503. Copies are at most
`REFRESH_SECONDS` older than the database when an outage starts (each process rewrites an entry at
most that often), are deleted when a site is saved or deleted, and expire after `KEEP_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
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


def save_site(*, site: Site, default: bool | None = None) -> Site:
    """Save a new or changed site; with `default=True` it becomes the default site. Atomic.

    `default=None` keeps the site's own `is_default` value (as a form set it). Moving the flag
    unsets the previous default first; two saves that each make a different site the default at
    the same moment cannot both win: the database constraint refuses the second.
    """
    wanted = site.is_default if default is None else default
    with transaction.atomic():
        if wanted:
            Site.objects.filter(is_default=True).exclude(pk=site.pk).update(is_default=False)
        site.is_default = wanted
        site.save()
    return site


def create_site(*, name: str, default: bool = False, **fields: Any) -> Site:
    """Create a site named `name` with any other `Site` fields; see `save_site` for `default`.

    Unless `cookieless=False` is passed the site is cookieless (the model's default): its visitors
    are counted by a daily-rotated hash, and the tracker sets no visitor cookie.

    The new site has no server key yet: call `site.rotate_server_key()` to make one (shown once).
    """
    return save_site(site=Site(name=name, **fields), default=default)


def make_default(*, site: Site) -> Site:
    """Make an existing site the default one (idempotent)."""
    return save_site(site=site, default=True)
