from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse

from events.admin import ReadOnlyAdmin
from events.erasure import Subject
from privacy import requests
from privacy.models import SubjectRequest


@admin.register(SubjectRequest)
class SubjectRequestAdmin(ReadOnlyAdmin):
    """The audit trail: read-only, kept for good, naming no subject."""

    list_display = [
        "requested_at",
        "action",
        "subject_kind",
        "requested_by",
        "status",
        "events",
        "visits",
        "progress_rows",
    ]
    list_filter = ["action", "status", "subject_kind"]
    date_hierarchy = "requested_at"


User = get_user_model()


@admin.action(description="Export the selected user's data (one user)")
def export_user_data(modeladmin, request: HttpRequest, queryset) -> HttpResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one user to export.", messages.WARNING)
        return None
    subject = Subject(kind="user", value=queryset.get().get_username())
    response = HttpResponse(
        requests.export_archive(subject=subject, requested_by=request.user.get_username()),
        content_type="application/zip",
    )
    response["Content-Disposition"] = 'attachment; filename="the-eye-user-export.zip"'
    return response


@admin.action(description="Erase the selected users' analytics data and progress")
def erase_user_data(modeladmin, request: HttpRequest, queryset) -> None:
    for user in queryset:
        requests.request_erasure(
            subject=Subject(kind="user", value=user.get_username()), requested_by=request.user.get_username()
        )
    modeladmin.message_user(request, f"Queued {queryset.count()} erasure(s); see Subject requests for progress.")


if admin.site.is_registered(User):
    existing = type(admin.site._registry[User])
    admin.site.unregister(User)
else:
    existing = UserAdmin


@admin.register(User)
class UserWithDataAdmin(existing):  # type: ignore[misc, valid-type]
    actions = [*(getattr(existing, "actions", None) or []), export_user_data, erase_user_data]
