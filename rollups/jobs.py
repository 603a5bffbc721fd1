"""Periodic work, as queue jobs: thin wrappers around the management commands."""

from __future__ import annotations

from django.core.management import call_command


def rebuild_rollups() -> None:
    """Recompute every site's rollups from raw events (catch-up; safe to run twice)."""
    call_command("rebuild_rollups")


def purge_events() -> None:
    """Delete raw events past the retention period (safe to run twice)."""
    call_command("purge_events")
