"""Periodic work, as queue jobs: thin wrappers around the management commands."""

from __future__ import annotations

from django.core.management import call_command

# Late data (an earlier visit uploaded from an offline queue) changes recent days only; a full
# rebuild would hold one transaction over the whole history while workers wait on its rows.
NIGHTLY_REBUILD_DAYS = 7


def rebuild_rollups() -> None:
    """Recompute the last week of every site's rollups from raw events (catch-up; safe to run twice)."""
    call_command("rebuild_rollups", days=NIGHTLY_REBUILD_DAYS)


def purge_events() -> None:
    """Delete raw events past the retention period (safe to run twice)."""
    call_command("purge_events")
