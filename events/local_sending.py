"""The host middleware's collector "local": inside The Eye, batches go straight to the write path.

The middleware and its background sender are the separate `the_eye_client` package (what host
sites install); The Eye registers this transport with it when the `events` app is ready, so its
own pages can be recorded with `THE_EYE_COLLECTOR_URL = "local"` and no HTTP round trip.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from the_eye_client.sender import Outcome, judge_rejection

from events import ingest
from events.models import Site
from events.validation import EventValidationError


class LocalTransport:
    """Hands a batch to `events.ingest.accept()` as a trusted sender (the site of the server key)."""

    def __init__(self, *, server_key: str) -> None:
        self._server_key = server_key

    def send(self, events: list[dict[str, Any]]) -> Outcome:
        try:
            site = Site.objects.by_server_key(self._server_key) if self._server_key else Site.objects.default()
            if site is None:
                return Outcome("drop", "no site has THE_EYE_SERVER_KEY (and none is the default site)")
            ingest.accept(site=site, payload=events, sender=ingest.Sender(source="middleware", trusted=True))
        except EventValidationError as error:
            return judge_rejection(400, error.as_body())
        except Exception as error:  # the database and the queue are both down: try later
            return Outcome("retry", f"storing failed: {error!r}")
        finally:
            # This thread outlives requests; never keep a connection the database may close.
            connection.close()
        return Outcome("sent")


def local_transport(server_key: str) -> LocalTransport:
    return LocalTransport(server_key=server_key)
