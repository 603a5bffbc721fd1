"""Turn accepted events into stored rows: everything the worker adds off the request path.

`enrich()` is called by `events.ingest.store_batch` only. It returns the rows to insert and the
number of events it dropped per reason.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from events.models import IpPrivacy, Site

COLUMNS_FROM_EVENT = (
    "session_id", "visitor_id", "category", "name", "user", "url", "host", "path", "referrer", "title",
)


def reduce_ip(ip: str | None, privacy: str) -> str | None:
    """Apply a site's IP privacy: keep, anonymise (last octet / last 80 bits zeroed) or drop."""
    if not ip or privacy == IpPrivacy.NONE:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if privacy == IpPrivacy.RAW:
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def enrich(
    *, events: list[dict[str, Any]], site: Site, sender: dict[str, Any], received_at: datetime
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Build one row per event from the event and its sender; never raises on odd input."""
    rows = []
    for event in events:
        # Per-event ip / user_agent come only from trusted senders (checked by ingest.accept).
        ip = reduce_ip(event.get("ip") or sender.get("ip"), site.ip_privacy)
        row: dict[str, Any] = {name: event.get(name) or "" for name in COLUMNS_FROM_EVENT}
        row.update(
            id=event["id"],
            site_id=site.pk,
            source=sender.get("source") or "api",
            timestamp=datetime.fromisoformat(event["timestamp"]),
            received_at=received_at,
            data=event.get("data") or {},
            ip=ip,
            user_agent=event.get("user_agent") or sender.get("user_agent") or "",
        )
        rows.append(row)
    return rows, {}
