from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from xapi.models import StateDocument, Statement


class ReadOnly(admin.ModelAdmin):
    """Written only through the LRS (xapi.statements, xapi.state): staff read them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnly):
    list_display = ["stored", "site", "agent", "verb", "activity", "voided"]
    list_filter = ["site", "voided"]
    search_fields = ["=id", "agent", "verb", "activity"]


@admin.register(StateDocument)
class StateDocumentAdmin(ReadOnly):
    list_display = ["updated", "site", "agent", "activity", "state_id", "content_type"]
    list_filter = ["site"]
    search_fields = ["agent", "activity", "state_id"]
