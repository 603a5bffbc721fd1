"""Name page loads from their URL path with the ordered `EventNameRule` table.

The first enabled rule (lowest position; a site's own rules and the all-sites rules together)
whose pattern matches the path from its start gives the name, and its named groups become data
fields (URL-decoded: `Introduction+to+BASH` → `Introduction to BASH`). A path matching nothing is
still stored, named `pageview` — the seed silently dropped such visits.

Compiled rules are cached per process. A worker must notice edits made in the admin (another
process), so each batch checks a cheap version stamp (rule count and newest `updated_at`, one
query); a save or delete in this process clears the cache at once through signals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from events.models import EventNameRule

UNMATCHED = "pageview"


@dataclass(frozen=True)
class CompiledRule:
    site_id: int | None
    regex: re.Pattern[str]
    event_name: str


_cache: dict[str, Any] = {"stamp": None, "rules": []}


def _stamp() -> tuple[int, Any]:
    found = EventNameRule.objects.aggregate(n=Count("id"), newest=Max("updated_at"))
    return found["n"], found["newest"]


def rules() -> list[CompiledRule]:
    """All enabled rules in order, compiled; reloaded only when the table changed."""
    stamp = _stamp()
    if stamp != _cache["stamp"]:
        compiled = []
        for rule in EventNameRule.objects.filter(enabled=True).order_by("position", "id"):
            try:
                regex = re.compile(rule.pattern)
            except re.error:
                continue  # the admin refuses bad patterns; one saved another way must not stop ingest
            compiled.append(CompiledRule(rule.site_id, regex, rule.event_name))
        _cache.update(stamp=stamp, rules=compiled)
    return _cache["rules"]


@receiver([post_save, post_delete], sender=EventNameRule)
def _forget_rules(**kwargs: Any) -> None:
    _cache["stamp"] = None


def name_for(*, path: str, site_id: int, table: list[CompiledRule]) -> tuple[str, dict[str, str]]:
    """The event name of a page load at `path` and the fields its rule's named groups captured."""
    bare = path.split("?", 1)[0]
    for rule in table:
        if rule.site_id is not None and rule.site_id != site_id:
            continue
        found = rule.regex.match(bare)
        if found:
            fields = {k: unquote_plus(v) for k, v in found.groupdict().items() if v is not None}
            return rule.event_name, fields
    return UNMATCHED, {}
