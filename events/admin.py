from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from events.models import Event, Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "site_id", "is_default", "ip_privacy", "cookieless", "server_key_hint", "created_at"]
    readonly_fields = ["site_id", "server_key_hint", "created_at"]
    actions = ["rotate_server_keys"]

    def save_model(self, request: HttpRequest, obj: Site, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
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
                request, f"New server key for {site.name}: {key} — copy it now, it is shown only once.", messages.WARNING
            )


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Stored events are evidence: staff read them, nobody edits them here."""

    list_display = ["timestamp", "site", "category", "name", "event_name", "path", "user", "session_id", "country", "browser"]
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
