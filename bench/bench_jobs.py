"""The seeds' storage design, kept only as the baseline of bench/ingest.py: one row per job."""

from __future__ import annotations

from datetime import UTC, datetime


def insert_one(site_pk: int, event: dict) -> None:
    from events.models import Event

    Event.objects.create(
        id=event["id"],
        site_id=site_pk,
        source="seed",
        session_id=event["session_id"],
        category=event["category"],
        name=event["name"],
        host=event["data"]["host"],
        path=event["data"]["path"],
        url=event["url"],
        data=event["data"],
        timestamp=datetime.fromisoformat(event["timestamp"]),
        received_at=datetime.now(UTC),
    )
