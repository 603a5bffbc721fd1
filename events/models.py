"""Sites that send events, and the events themselves.

Rows are created only by `events.ingest` (the one write path); admin shows them read-only.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.db import models
from django.db.models import Q


def new_public_site_id() -> str:
    return secrets.token_hex(8)


def new_server_key() -> str:
    return "tes_" + secrets.token_urlsafe(32)


def hash_server_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class IpPrivacy(models.TextChoices):
    RAW = "raw", "Store the full IP address"
    ANONYMISED = "anonymised", "Zero the last octet (IPv4) or last 80 bits (IPv6)"
    NONE = "none", "Store no IP address"


class SiteQuerySet(models.QuerySet["Site"]):
    def by_public_id(self, site_id: str) -> Site | None:
        return self.filter(site_id=site_id).first()

    def default(self) -> Site | None:
        return self.filter(is_default=True).first()

    def by_server_key(self, key: str) -> Site | None:
        return self.filter(server_key_hash=hash_server_key(key)).first()


class Site(models.Model):
    """A website or app whose visitors we count.

    Browsers and The Eye-format clients name it by its public `site_id`; server-to-server senders
    prove who they are with the secret server key, of which only a hash is kept.
    """

    name = models.CharField(max_length=200)
    site_id = models.CharField(
        "public site id", max_length=32, unique=True, default=new_public_site_id, editable=False
    )
    server_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    server_key_hint = models.CharField(max_length=12, blank=True, editable=False)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text='Origins browsers may send from, e.g. ["https://spoken-tutorial.org"].',
    )
    is_default = models.BooleanField(
        default=False, help_text="Events that name no site are counted for this one."
    )
    allow_custom_events = models.BooleanField(
        default=True,
        help_text="Accept event types outside the built-in registry (data: any JSON object).",
    )
    ip_privacy = models.CharField(
        max_length=16, choices=IpPrivacy.choices, default=IpPrivacy.ANONYMISED
    )
    cookieless = models.BooleanField(
        default=False, help_text="Identify visitors by a daily-rotated hash instead of a cookie."
    )
    respect_dnt = models.BooleanField(
        default=False, help_text="The tracker sends nothing when Do Not Track or GPC is set."
    )
    collect_geolocation = models.BooleanField(
        default=False, help_text="The tracker asks visitors for their precise position (opt-in)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_site"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def rotate_server_key(self) -> str:
        """Make a new secret server key, keep only its hash, and return the key (shown once)."""
        key = new_server_key()
        self.server_key_hash = hash_server_key(key)
        self.server_key_hint = key[:8]
        self.save(update_fields=["server_key_hash", "server_key_hint"])
        return key

    def origin_allowed(self, origin: str) -> bool:
        return origin.rstrip("/").lower() in {o.rstrip("/").lower() for o in self.allowed_origins}


class Event(models.Model):
    """One thing a visitor or learner did, as stored after validation and enrichment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=16, default="api")
    session_id = models.CharField(max_length=128)
    visitor_id = models.CharField(max_length=128, blank=True)
    user = models.CharField(max_length=150, blank=True)
    category = models.CharField(max_length=64)
    name = models.CharField(max_length=64)
    event_name = models.CharField(max_length=128, blank=True)
    url = models.TextField(blank=True)
    host = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=2048, blank=True)
    referrer = models.TextField(blank=True)
    title = models.CharField(max_length=512, blank=True)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    # Filled by enrichment in the worker.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    browser = models.CharField(max_length=64, blank=True)
    browser_version = models.CharField(max_length=32, blank=True)
    os = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=32, blank=True)
    device = models.CharField(max_length=64, blank=True)
    device_type = models.CharField(max_length=16, blank=True)
    country = models.CharField(max_length=2, blank=True)
    country_name = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=128, blank=True)
    city = models.CharField(max_length=128, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["site", "timestamp"], name="event_site_time"),
            models.Index(fields=["session_id", "timestamp"], name="event_session"),
            models.Index(fields=["user", "timestamp"], name="event_user"),
            models.Index(fields=["site", "path"], name="event_site_path"),
            models.Index(fields=["-timestamp"], name="event_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.category}/{self.name} at {self.timestamp:%Y-%m-%d %H:%M:%S}"
