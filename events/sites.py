"""The one place that creates sites and moves the default flag.

The create_site command, the admin, the demo and the tests all come here, so "at most one default
site" is kept the same way everywhere: the old default is unset in the same transaction that sets
the new one (the `one_default_site` constraint would refuse the save otherwise).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from events.models import Site


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

    The new site has no server key yet: call `site.rotate_server_key()` to make one (shown once).
    """
    return save_site(site=Site(name=name, **fields), default=default)


def make_default(*, site: Site) -> Site:
    """Make an existing site the default one (idempotent)."""
    return save_site(site=site, default=True)
