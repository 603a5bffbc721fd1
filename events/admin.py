from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from events import sites
from events.models import DroppedEvents, Event, EventNameRule, QuarantinedEvent, Session, Site, Visitor


class SiteForm(forms.ModelForm):
    # Not the model field itself: ticking it on a second site must move the flag (events.sites),
    # not fail the one-default-site check while the old default still holds it.
    default = forms.BooleanField(
        required=False,
        label="Default site",
        help_text="Events that name no site are counted for this one; ticking it unticks the previous default.",
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "allowed_origins",
            "allow_custom_events",
            "ip_privacy",
            "cookieless",
            "respect_dnt",
            "collect_geolocation",
            "require_consent",
            "retention_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default"].initial = self.instance.is_default


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "site_id", "is_default", "ip_privacy", "cookieless", "server_key_hint", "created_at"]
    readonly_fields = ["site_id", "server_key_hint", "created_at"]
    actions = ["rotate_server_keys"]

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
