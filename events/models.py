"""Sites that send events, and the events themselves.

Rows are created only by `events.ingest` (the one write path); admin shows them read-only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from events.validation import Rule, host
from rollups.definitions import Role


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


class Channel(models.TextChoices):
    """How a visitor reached a page, from the referrer."""

    DIRECT = "direct"
    SEARCH = "search"
    SOCIAL = "social"
    REFERRAL = "referral"
    INTERNAL = "internal"


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
    site_id = models.CharField("public site id", max_length=32, unique=True, default=new_public_site_id, editable=False)
    server_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    server_key_hint = models.CharField(max_length=12, blank=True, editable=False)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text='Origins browsers may send from, e.g. ["https://spoken-tutorial.org"].',
    )
    domains = models.JSONField(
        default=list,
        # Also a database default, so code that predates the column (a rolling deploy, an older
        # migration state) can still create sites.
        db_default=models.Value([], output_field=models.JSONField()),
        blank=True,
        help_text='Domains this site answers for in Plausible\'s Events API (its "domain" field), e.g. ["example.org"].',
    )
    is_default = models.BooleanField(default=False, help_text="Events that name no site are counted for this one.")
    allow_custom_events = models.BooleanField(
        default=True,
        help_text="Accept event types outside the built-in registry (data: any JSON object).",
    )
    ip_privacy = models.CharField(max_length=16, choices=IpPrivacy.choices, default=IpPrivacy.ANONYMISED)
    cookieless = models.BooleanField(
        default=True,
        help_text="Identify visitors by a daily-rotated hash instead of a cookie (new sites: on unless chosen "
        "otherwise).",
    )
    respect_dnt = models.BooleanField(
        default=False, help_text="The tracker sends nothing when Do Not Track or GPC is set."
    )
    collect_geolocation = models.BooleanField(
        default=False, help_text="The tracker asks visitors for their precise position (opt-in)."
    )
    require_consent = models.BooleanField(
        default=False,
        db_default=False,  # like `domains`: code that predates the column can still create sites
        help_text="The tracker records, sends and stores nothing until the page calls theEye.consent(true).",
    )
    retention_days = models.PositiveIntegerField(
        "keep raw events for (days)",
        null=True,
        blank=True,
        help_text="Raw events, visits and visitors older than this are deleted nightly; the dashboards' "
        "daily rollups are kept. Empty: EVENTS_RETENTION_DAYS (0 keeps everything).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_site")
        ]

    def __str__(self) -> str:
        return self.name

    def retention(self, *, default: int) -> int:
        """Days of raw events this site keeps (0: all), its own setting or the global default."""
        return default if self.retention_days is None else self.retention_days

    def rotate_server_key(self) -> str:
        """Make a new secret server key, keep only its hash, and return the key (shown once)."""
        key = new_server_key()
        self.server_key_hash = hash_server_key(key)
        self.server_key_hint = key[:8]
        self.save(update_fields=["server_key_hash", "server_key_hint"])
        return key

    def tracker_tag(self, *, collector: str) -> str:
        """The one-line tag the site's pages carry, with the attributes its privacy settings need."""
        options = [f'data-site="{self.site_id}"']
        flags = [
            (self.cookieless, "data-cookieless"),
            (self.respect_dnt, "data-respect-dnt"),
            (self.collect_geolocation, "data-geolocation"),
            (self.require_consent, "data-require-consent"),
        ]
        options += [attribute for wanted, attribute in flags if wanted]
        return f'<script defer src="{collector.rstrip("/")}/static/the_eye/tracker.js" {" ".join(options)}></script>'

    def clean(self) -> None:
        """Domains are host names, each listed by one site only (it decides where events go)."""
        if not isinstance(self.domains, list):
            raise ValidationError({"domains": 'must be a list of host names, e.g. ["example.org"]'})
        clean: list[str] = []
        for value in self.domains:
            try:
                clean.append(host(value))
            except Rule as rule:
                raise ValidationError({"domains": f"{value!r} {rule}"}) from None
        self.domains = list(dict.fromkeys(clean))
        others = Site.objects.exclude(pk=self.pk).values_list("name", "domains")
        for name, listed in others:
            taken = set(self.domains) & set(listed or [])
            if taken:
                raise ValidationError({"domains": f"{', '.join(sorted(taken))} is already listed by the site {name}"})

    def origin_allowed(self, origin: str) -> bool:
        return origin.rstrip("/").lower() in {o.rstrip("/").lower() for o in self.allowed_origins}


class Event(models.Model):
    """One thing a visitor or learner did, as stored after validation and enrichment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=16, default="api")
    # The client's own session id, kept as sent; `visit_id` is the visit the worker placed it in.
    session_id = models.CharField(max_length=128)
    visit_id = models.CharField(max_length=128, blank=True)
    visitor_id = models.CharField(max_length=128, blank=True)
    user = models.CharField(max_length=150, blank=True)
    category = models.CharField(max_length=64)
    name = models.CharField(max_length=64)
    event_name = models.CharField(max_length=128, blank=True)
    # How the event counts (page view, engagement, interaction, passive): rollups.definitions.
    role = models.CharField(max_length=16, blank=True, choices=Role.choices)
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
    screen = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=35, blank=True)
    referrer_host = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=16, blank=True, choices=Channel.choices)
    utm_source = models.CharField(max_length=128, blank=True)
    utm_medium = models.CharField(max_length=128, blank=True)
    utm_campaign = models.CharField(max_length=128, blank=True)
    utm_content = models.CharField(max_length=128, blank=True)
    utm_term = models.CharField(max_length=128, blank=True)
    # Null when unknown: events stored before visitors were tracked.
    is_new_visitor = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["site", "timestamp"], name="event_site_time"),
            models.Index(fields=["session_id", "timestamp"], name="event_session"),
            models.Index(fields=["site", "visit_id"], name="event_site_visit"),
            models.Index(fields=["user", "timestamp"], name="event_user"),
            models.Index(fields=["site", "path"], name="event_site_path"),
            models.Index(fields=["-timestamp"], name="event_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.category}/{self.name} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class Visitor(models.Model):
    """A browser (cookie) or a daily hash (cookieless sites) seen on a site, first and last time.

    Written only by `events.enrichment` after an insert; tells first-time from returning visits.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    visitor_id = models.CharField(max_length=128)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "visitor_id"], name="visitor_unique_per_site")]

    def __str__(self) -> str:
        return self.visitor_id


class Session(models.Model):
    """One visit: a visitor's events with no gap longer than `SESSION_INACTIVITY_MINUTES`.

    `session_id` is the client's own id, as its events keep it. `visit_id` names the visit: the
    client's id for its first visit and `<id>~<unix start>` for each later one (when a client
    reuses an id after a longer pause); the visit's events carry it in `Event.visit_id`. Written
    only by `events.enrichment`, counting each stored event once.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="sessions")
    visit_id = models.CharField(max_length=128)
    # The id the client sent, shared by every visit split from it; finds them all in one query.
    session_id = models.CharField(max_length=128)
    visitor_id = models.CharField(max_length=128, blank=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    entry_path = models.CharField(max_length=2048, blank=True)
    exit_path = models.CharField(max_length=2048, blank=True)
    pageviews = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    # Events other than page loads and engagement reports (clicks, forms, custom events).
    interactions = models.PositiveIntegerField(default=0)
    engaged_seconds = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)
    is_bounce = models.BooleanField(default=True)
    is_new_visitor = models.BooleanField(default=True)
    channel = models.CharField(max_length=16, blank=True, choices=Channel.choices)
    referrer_host = models.CharField(max_length=255, blank=True)
    utm_campaign = models.CharField(max_length=128, blank=True)
    country = models.CharField(max_length=2, blank=True)
    device_type = models.CharField(max_length=16, blank=True)
    browser = models.CharField(max_length=64, blank=True)
    os = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "visit_id"], name="session_unique_per_site")]
        indexes = [
            models.Index(fields=["site", "started_at"], name="session_site_start"),
            models.Index(fields=["site", "session_id"], name="session_client_id"),
            models.Index(fields=["site", "visitor_id", "started_at"], name="session_visitor"),
        ]

    def __str__(self) -> str:
        return self.visit_id


class DailySalt(models.Model):
    """A random secret per UTC day, hashed into cookieless visitor ids and deleted after its day.

    Once a day's salt is gone nobody, us included, can link that day's hashes to an IP address.
    """

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return str(self.day)


class DropReason(models.TextChoices):
    BOT = "bot", "Bot or headless browser"
    INVALID = "invalid", "Refused at the door (400)"
    DUPLICATE = "duplicate", "Already stored (same event id)"
    QUARANTINED = "quarantined", "Accepted, but the database refused it (quarantined)"


class DroppedEvents(models.Model):
    """How many events of a site were not stored, per day and reason (counters, never rows)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="dropped_events")
    day = models.DateField()
    reason = models.CharField(max_length=16, choices=DropReason.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "dropped events"
        constraints = [models.UniqueConstraint(fields=["site", "day", "reason"], name="dropped_unique_per_day_reason")]

    def __str__(self) -> str:
        return f"{self.site} {self.day} {self.reason}: {self.count}"


class QuarantinedEvent(models.Model):
    """An accepted event the database refused, kept with the reason instead of sinking its batch.

    The door refuses every value it knows a store cannot keep, so a row here means a rule is
    missing there. `payload` is the event as JSON text with every non-ASCII character escaped,
    which any database can hold whatever the event contained.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="quarantined_events")
    event_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    quarantined_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    payload = models.TextField()

    class Meta:
        constraints = [
            # A retried job quarantines each event once.
            models.UniqueConstraint(fields=["site", "event_id"], name="quarantined_once_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.reason[:80]}"


class EventNameRule(models.Model):
    """One row of the ordered table that names page loads by URL path (first match wins).

    Named groups of the pattern, e.g. `(?P<foss>[^/]+)`, become fields of the event's `data`.
    """

    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="event_name_rules",
        help_text="Leave empty to apply the rule to every site.",
    )
    position = models.PositiveIntegerField(default=100, help_text="Rules are tried from the lowest position up.")
    pattern = models.CharField(
        max_length=512, help_text="A Python regular expression matched against the path from its start."
    )
    event_name = models.CharField(max_length=128)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.event_name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            re.compile(self.pattern)
        except re.error as error:
            raise ValidationError({"pattern": f"is not a valid regular expression: {error}"}) from None
