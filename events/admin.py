from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from events import sites
from events.models import DroppedEvents, Event, EventNameRule, QuarantinedEvent, Session, Site, Visitor


class OriginListField(forms.Field):
    """Allowed origins as a person edits them: one per line (a pasted JSON list works too).

    Each must be an origin, `scheme://host[:port]` with http or https and no path; every bad
    line is named in the error. Stored as the JSON list the model keeps, without duplicates.
    """

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60, "placeholder": "https://spoken-tutorial.org"})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: object) -> list[str]:
        text = str(value or "").strip()
        if text.startswith("["):
            try:
                lines = [str(v) for v in json.loads(text)]
            except (ValueError, TypeError):
                raise forms.ValidationError("Write one origin per line, or a JSON list of strings.") from None
        else:
            lines = text.splitlines()
        origins: list[str] = []
        for line in (line.strip() for line in lines):
            if line and line.rstrip("/") not in origins:
                origins.append(line.rstrip("/"))
        return origins

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        bad = [origin for origin in value if not _is_origin(origin)]
        if bad:
            raise forms.ValidationError(
                "Not an origin (https://host or http://host:port, no path): %(bad)s", params={"bad": ", ".join(bad)}
            )


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path == ""
        and not (parts.query or parts.fragment or parts.username)
    )


class SiteForm(forms.ModelForm):
    # Not the model field itself: ticking it on a second site must move the flag (events.sites),
    # not fail the one-default-site check while the old default still holds it.
    default = forms.BooleanField(
        required=False,
        label="Default site",
        help_text="Events that name no site are counted for this one; ticking it unticks the previous default.",
    )
    allowed_origins = OriginListField(
        required=False,
        help_text="Origins browsers may send events from, one per line, e.g. https://spoken-tutorial.org",
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "domains",
            "allowed_origins",
            "allow_custom_events",
            "ip_privacy",
            "cookieless",
            "respect_dnt",
            "collect_geolocation",
            "require_consent",
            "retention_days",
        ]
        labels = {"ip_privacy": "IP privacy", "respect_dnt": "Respect DNT"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default"].initial = self.instance.is_default


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "site_id", "is_default", "ip_privacy_shown", "cookieless", "server_key_hint", "created_at"]
    readonly_fields = ["site_id", "server_key_hint", "created_at"]
    actions = ["rotate_server_keys"]

    @admin.display(description="IP privacy", ordering="ip_privacy")
    def ip_privacy_shown(self, site: Site) -> str:
        return site.get_ip_privacy_display()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        site = self.get_object(request, object_id)
        if site is not None:
            extra_context = {
                **(extra_context or {}),
                "tracker_tag": site.tracker_tag(collector=request.build_absolute_uri("/")),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Site, form, change: bool) -> None:
        # Ticking "default" on one site unticks it on the previous default (one place does both).
        sites.save_site(site=obj, default=form.cleaned_data.get("default", obj.is_default))
        if not change:
            key = obj.rotate_server_key()
            self.message_user(
                request,
                f"Site {obj.name}: public site id {obj.site_id}; server key {key} — copy it now, it is shown only once.",
                messages.WARNING,
            )

    @admin.action(description="Rotate the server key (the old key stops working)")
    def rotate_server_keys(self, request: HttpRequest, queryset) -> None:
        for site in queryset:
            key = site.rotate_server_key()
            self.message_user(
                request,
                f"New server key for {site.name}: {key} — copy it now, it is shown only once.",
                messages.WARNING,
            )


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Stored events are evidence: staff read them, nobody edits them here."""

    list_display = [
        "timestamp",
        "site",
        "category",
        "name",
        "event_name",
        "path",
        "user",
        "session_id",
        "country",
        "browser",
    ]
    list_filter = ["site", "category", "name", "source", "device_type", "country"]
    search_fields = ["session_id", "user", "path", "=id"]
    date_hierarchy = "timestamp"
    ordering = ["-timestamp"]  # newest first
    list_select_related = ["site"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Counts and rollups were made from these rows; deleting some here would silently skew them.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the worker keeps up to date: staff read them; edits would corrupt the counts."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DroppedEvents)
class DroppedEventsAdmin(ReadOnlyAdmin):
    list_display = ["day", "site", "reason", "count"]
    list_filter = ["reason", "site"]
    date_hierarchy = "day"
    ordering = ["-day", "site", "reason"]
    list_select_related = ["site"]


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(ReadOnlyAdmin):
    """Accepted events the database refused, with the reason: each one is a rule the door lacks."""

    list_display = ["quarantined_at", "site", "event_id", "reason"]
    list_filter = ["site"]
    search_fields = ["event_id", "reason"]
    date_hierarchy = "quarantined_at"
    ordering = ["-quarantined_at"]
    list_select_related = ["site"]


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "site",
        "visit_id",
        "entry_path",
        "exit_path",
        "pageviews",
        "duration_seconds",
        "is_bounce",
        "is_new_visitor",
        "channel",
        "country",
        "device_type",
    ]
    list_filter = ["site", "channel", "is_bounce", "is_new_visitor", "device_type"]
    search_fields = ["=visit_id", "=session_id", "=visitor_id"]
    date_hierarchy = "started_at"
    list_select_related = ["site"]
    show_full_result_count = False


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyAdmin):
    list_display = ["visitor_id", "site", "first_seen", "last_seen"]
    list_filter = ["site"]
    search_fields = ["=visitor_id"]
    list_select_related = ["site"]
    show_full_result_count = False


@admin.register(EventNameRule)
class EventNameRuleAdmin(admin.ModelAdmin):
    """The ordered URL → event-name table; the worker picks up changes with its next batch."""

    list_display = ["position", "pattern", "event_name", "site", "enabled", "updated_at"]
    list_display_links = ["pattern"]
    list_editable = ["position", "enabled"]
    list_filter = ["enabled", "site"]
    ordering = ["position", "id"]
